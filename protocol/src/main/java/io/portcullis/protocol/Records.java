package io.portcullis.protocol;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * Content-based equals, hashCode and toString for records with array components, which the
 * generated record methods would compare by identity.
 */
final class Records {

  private static final ClassValue<Method[]> ACCESSORS =
      new ClassValue<>() {
        @Override
        protected Method[] computeValue(Class<?> type) {
          return Arrays.stream(type.getRecordComponents())
              .map(RecordComponent::getAccessor)
              .toArray(Method[]::new);
        }
      };

  private Records() {}

  static boolean equals(Record self, Object other) {
    if (self == other) {
      return true;
    }
    if (other == null || other.getClass() != self.getClass()) {
      return false;
    }
    return Arrays.deepEquals(components(self), components((Record) other));
  }

  static int hashCode(Record self) {
    return Arrays.deepHashCode(components(self));
  }

  static String toString(Record self) {
    RecordComponent[] names = self.getClass().getRecordComponents();
    Object[] values = components(self);
    StringJoiner joiner = new StringJoiner(", ", self.getClass().getSimpleName() + "[", "]");
    for (int i = 0; i < values.length; i++) {
      joiner.add(names[i].getName() + "=" + string(values[i]));
    }
    return joiner.toString();
  }

  private static String string(Object value) {
    if (value instanceof Object[] array) {
      return Arrays.deepToString(array);
    }
    if (value instanceof byte[] array) {
      return Arrays.toString(array);
    }
    if (value instanceof short[] array) {
      return Arrays.toString(array);
    }
    if (value instanceof int[] array) {
      return Arrays.toString(array);
    }
    return Objects.toString(value);
  }

  private static Object[] components(Record record) {
    Method[] accessors = ACCESSORS.get(record.getClass());
    Object[] values = new Object[accessors.length];
    try {
      for (int i = 0; i < accessors.length; i++) {
        values[i] = accessors[i].invoke(record);
      }
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read the components of " + record.getClass(), e);
    }
    return values;
  }
}
