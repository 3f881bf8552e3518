package io.portcullis.node.masking;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An array value in PostgreSQL's binary format ({@code array_send}/{@code array_recv}), of any
 * element type: the elements stay in their own binary format, to be rewritten one by one, in place
 * ({@code elements().set(i, value)}), before {@link #encode()}.
 *
 * @param elementOid the OID of the element type
 * @param lengths the length of each dimension; none for an empty array
 * @param lowerBounds the lower bound of each dimension
 * @param elements the elements in storage order (last dimension varying fastest), each in the
 *     element type's binary format, null for NULL: a list of fixed size whose elements may be
 *     replaced; the byte arrays are not copied
 */
public record BinaryArray(int elementOid, int[] lengths, int[] lowerBounds, List<byte[]> elements) {

  /** PostgreSQL's MAXDIM. */
  private static final int MAX_DIMENSIONS = 6;

  /**
   * Copies the dimensions and the list of elements.
   *
   * @throws IllegalArgumentException if the dimensions do not fit PostgreSQL's limits or the number
   *     of elements is not their product
   */
  public BinaryArray {
    lengths = lengths.clone();
    lowerBounds = lowerBounds.clone();
    elements = Arrays.asList(elements.toArray(new byte[0][]));
    String problem = dimensionProblem(lengths, lowerBounds);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    if (elements.size() != elementCount(lengths)) {
      throw new IllegalArgumentException(
          elements.size()
              + " elements for dimensions "
              + Arrays.toString(lengths)
              + ", which hold "
              + elementCount(lengths));
    }
  }

  @Override
  public int[] lengths() {
    return lengths.clone();
  }

  @Override
  public int[] lowerBounds() {
    return lowerBounds.clone();
  }

  /**
   * Reads an array in the binary format.
   *
   * @throws MalformedArrayException if {@code value} is not one, as {@code array_recv} would refuse
   *     it (the element type is not checked)
   */
  public static BinaryArray decode(byte[] value) {
    ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.BIG_ENDIAN);
    int dimensions = int32(in, "the number of dimensions");
    int hasNullFlag = int32(in, "the has-null flag");
    int elementOid = int32(in, "the element type");
    if (dimensions < 0 || dimensions > MAX_DIMENSIONS) {
      throw new MalformedArrayException(
          "binary array with " + dimensions + " dimensions (at most " + MAX_DIMENSIONS + ")");
    }
    if (hasNullFlag != 0 && hasNullFlag != 1) {
      throw new MalformedArrayException("binary array with has-null flag " + hasNullFlag);
    }
    int[] lengths = new int[dimensions];
    int[] lowerBounds = new int[dimensions];
    for (int i = 0; i < dimensions; i++) {
      lengths[i] = int32(in, "the length of dimension " + (i + 1));
      lowerBounds[i] = int32(in, "the lower bound of dimension " + (i + 1));
    }
    String problem = dimensionProblem(lengths, lowerBounds);
    if (problem != null) {
      throw new MalformedArrayException("binary array: " + problem);
    }
    long count = elementCount(lengths);
    // Each element takes at least its 4-byte length: a larger count cannot be real.
    if (count > in.remaining() / 4) {
      throw new MalformedArrayException(
          "binary array of "
              + count
              + " elements in "
              + in.remaining()
              + " bytes: truncated or corrupt");
    }
    List<byte[]> elements = new ArrayList<>((int) count);
    for (int i = 0; i < count; i++) {
      int length = int32(in, "the length of element " + (i + 1));
      if (length == -1) {
        elements.add(null);
      } else if (length < 0 || length > in.remaining()) {
        throw new MalformedArrayException(
            "binary array element "
                + (i + 1)
                + " has length "
                + length
                + " with "
                + in.remaining()
                + " bytes left");
      } else {
        byte[] element = new byte[length];
        in.get(element);
        elements.add(element);
      }
    }
    if (in.hasRemaining()) {
      throw new MalformedArrayException(
          "binary array followed by " + in.remaining() + " bytes after its last element");
    }
    return new BinaryArray(elementOid, lengths, lowerBounds, elements);
  }

  /** The array in the binary format, its has-null flag set from the elements. */
  public byte[] encode() {
    int size = 12 + 8 * lengths.length + 4 * elements.size();
    boolean hasNull = false;
    for (byte[] element : elements) {
      if (element == null) {
        hasNull = true;
      } else {
        size += element.length;
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    writeInt32(out, lengths.length);
    writeInt32(out, hasNull ? 1 : 0);
    writeInt32(out, elementOid);
    for (int i = 0; i < lengths.length; i++) {
      writeInt32(out, lengths[i]);
      writeInt32(out, lowerBounds[i]);
    }
    for (byte[] element : elements) {
      writeInt32(out, element == null ? -1 : element.length);
      if (element != null) {
        out.writeBytes(element);
      }
    }
    return out.toByteArray();
  }

  /** What array_recv would refuse in these dimensions, or null. */
  private static String dimensionProblem(int[] lengths, int[] lowerBounds) {
    if (lengths.length > MAX_DIMENSIONS) {
      return lengths.length + " dimensions, at most " + MAX_DIMENSIONS;
    }
    if (lengths.length != lowerBounds.length) {
      return lengths.length + " dimension lengths but " + lowerBounds.length + " lower bounds";
    }
    for (int i = 0; i < lengths.length; i++) {
      if (lengths[i] < 0) {
        return "dimension " + (i + 1) + " has length " + lengths[i];
      }
      if ((long) lowerBounds[i] + lengths[i] - 1 > Integer.MAX_VALUE) {
        return "dimension " + (i + 1) + " ends beyond the largest integer";
      }
    }
    return null;
  }

  /** The product of the lengths, capped past any count that could fit in a value. */
  private static long elementCount(int[] lengths) {
    long count = lengths.length == 0 ? 0 : 1;
    for (int length : lengths) {
      count = Math.min(count * length, Integer.MAX_VALUE + 1L);
    }
    return count;
  }

  private static int int32(ByteBuffer in, String what) {
    if (in.remaining() < 4) {
      throw new MalformedArrayException("binary array truncated in " + what);
    }
    return in.getInt();
  }

  private static void writeInt32(ByteArrayOutputStream out, int value) {
    out.write(value >>> 24);
    out.write(value >>> 16);
    out.write(value >>> 8);
    out.write(value);
  }
}
