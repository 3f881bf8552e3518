package io.portcullis.policy.identity;

import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * Identifies services by the client certificate they presented in the TLS handshake (mutual TLS).
 * TLS has already verified the certificate against the listener's client CA; this maps its subject
 * to an identity the way {@link OidcAuthenticator} maps claims: one field must equal the
 * StartupMessage user name, another gives the groups. Clients without a certificate are passed to
 * the next authenticator (usually OIDC), so people and agents with tokens use the same listener.
 *
 * <p>A client that presents a certificate is judged by it alone: a certificate naming someone else
 * is refused, never retried with a token.
 */
public final class CertificateAuthenticator implements ClientAuthenticator {

  /** Where in the certificate the user name is read from. */
  public enum UserField {
    /** The subject's common name. */
    CN,
    /** A subject alternative name of type rfc822Name. */
    EMAIL,
    /** A subject alternative name of type dNSName. */
    DNS,
    /** A subject alternative name of type uniformResourceIdentifier, e.g. a SPIFFE id. */
    URI;

    /** The GeneralName tag of RFC 5280 for the SAN fields. */
    int sanTag() {
      return switch (this) {
        case EMAIL -> 1;
        case DNS -> 2;
        case URI -> 6;
        case CN -> -1;
      };
    }
  }

  /**
   * @param userField where the user name comes from
   * @param groupsAttribute subject attribute whose values are the groups, e.g. {@code OU}
   * @param agent whether certificate holders are agents (services), as they usually are
   */
  public record Mapping(UserField userField, String groupsAttribute, boolean agent) {}

  private final Mapping mapping;
  private final ClientAuthenticator otherwise;

  public CertificateAuthenticator(Mapping mapping, ClientAuthenticator otherwise) {
    this.mapping = mapping;
    this.otherwise = otherwise;
  }

  @Override
  public LoginOutcome authenticate(LoginAttempt attempt) {
    if (attempt.clientCertificate().isEmpty()) {
      return otherwise.authenticate(attempt);
    }
    X509Certificate certificate = attempt.clientCertificate().get();
    List<String> names = userNames(certificate);
    if (!names.contains(attempt.user())) {
      return new LoginOutcome.Rejected(
          "28000",
          "the client certificate ("
              + certificate.getSubjectX500Principal().getName(X500Principal.RFC2253)
              + ") does not identify the user name \""
              + attempt.user()
              + "\"; its "
              + mapping.userField()
              + " is "
              + (names.isEmpty() ? "missing" : String.join(", ", names)));
    }
    Identity identity =
        new Identity(
            attempt.user(),
            "x509:" + certificate.getIssuerX500Principal().getName(X500Principal.RFC2253),
            subjectAttribute(certificate, mapping.groupsAttribute()),
            mapping.agent());
    return new LoginOutcome.Authenticated(
        identity, Optional.of(certificate.getNotAfter().toInstant()));
  }

  /** A certificate is identified by the SHA-256 of its encoding, as {@code openssl x509} shows. */
  @Override
  public Optional<String> fingerprint(LoginAttempt attempt) {
    if (attempt.clientCertificate().isEmpty()) {
      return otherwise.fingerprint(attempt);
    }
    try {
      return Optional.of(
          "x509-sha256:" + Sha256.hexPrefix(attempt.clientCertificate().get().getEncoded(), 32));
    } catch (CertificateEncodingException e) {
      return Optional.empty();
    }
  }

  private List<String> userNames(X509Certificate certificate) {
    if (mapping.userField() == UserField.CN) {
      return List.copyOf(subjectAttribute(certificate, "CN"));
    }
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
      if (alternatives != null) {
        for (List<?> name : alternatives) {
          if (((Integer) name.get(0)) == mapping.userField().sanTag()) {
            names.add((String) name.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // A certificate whose alternative names cannot be read names nobody.
    }
    return names;
  }

  private static Set<String> subjectAttribute(X509Certificate certificate, String attribute) {
    Set<String> values = new LinkedHashSet<>();
    try {
      LdapName subject =
          new LdapName(certificate.getSubjectX500Principal().getName(X500Principal.RFC2253));
      for (Rdn rdn : subject.getRdns()) {
        // Attribute names compare case-insensitively; an RDN may hold several (OU=a+CN=b).
        Attribute found = rdn.toAttributes().get(attribute);
        if (found != null) {
          NamingEnumeration<?> all = found.getAll();
          while (all.hasMore()) {
            values.add(all.next().toString());
          }
        }
      }
    } catch (NamingException e) {
      // RFC 2253 output of the JDK always parses; an unreadable subject names nobody.
    }
    return values;
  }
}
