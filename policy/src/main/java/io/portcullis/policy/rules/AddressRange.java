package io.portcullis.policy.rules;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A CIDR block such as {@code 10.20.0.0/16} or {@code fd00::/8}; a bare address is a /32 or /128.
 */
public record AddressRange(byte[] network, int prefixLength, String text) {

  /** Parses a CIDR block written with a literal address (never resolved through DNS). */
  public static AddressRange parse(String text) {
    int slash = text.indexOf('/');
    String address = slash < 0 ? text : text.substring(0, slash);
    // Only full literal forms: InetAddress would take "10.1" as 10.0.0.1 and look names up in DNS.
    boolean ipv4 =
        address.matches(
            "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    boolean ipv6 = address.contains(":") && address.matches("[0-9A-Fa-f:.]+");
    if (!ipv4 && !ipv6) {
      throw new IllegalArgumentException("not an IP address: " + address);
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(address).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + address);
    }
    int prefix;
    try {
      prefix = slash < 0 ? bytes.length * 8 : Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a prefix length: " + text.substring(slash + 1));
    }
    if (prefix < 0 || prefix > bytes.length * 8) {
      throw new IllegalArgumentException(
          "prefix length " + prefix + " is out of range for " + address);
    }
    return new AddressRange(bytes, prefix, text);
  }

  public boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      return false;
    }
    int bits = prefixLength;
    for (int i = 0; i < network.length && bits > 0; i++, bits -= 8) {
      int mask = bits >= 8 ? 0xFF : (0xFF << (8 - bits)) & 0xFF;
      if ((candidate[i] & mask) != (network[i] & mask)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof AddressRange range && range.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
