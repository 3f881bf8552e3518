package io.portcullis.node.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.config.TargetSettings.UpstreamLogin;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.AuthenticationCleartextPassword;
import io.portcullis.protocol.BackendMessage.AuthenticationMd5Password;
import io.portcullis.protocol.BackendMessage.AuthenticationOther;
import io.portcullis.protocol.BackendMessage.AuthenticationSasl;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslContinue;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslFinal;
import io.portcullis.protocol.BackendMessage.BackendKeyData;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.ParameterStatus;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse;
import io.portcullis.protocol.FrontendMessage.Query;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Logs the gateway in to the upstream (trust, cleartext, MD5 or SCRAM-SHA-256), collects the
 * ParameterStatus and BackendKeyData messages, runs {@code SET ROLE} if the session needs one, and
 * hands over the idle connection at the last ReadyForQuery. Removes itself once done.
 */
final class UpstreamHandshake extends ChannelInboundHandlerAdapter {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final TargetSettings target;
  private final UpstreamLogin login;
  private Optional<String> setRole;
  private final CompletableFuture<UpstreamConnection> result;
  private final List<ParameterStatus> parameters = new ArrayList<>();
  private BackendKeyData key;
  private ScramSha256Client scram;

  UpstreamHandshake(
      TargetSettings target,
      UpstreamLogin login,
      Optional<String> setRole,
      CompletableFuture<UpstreamConnection> result) {
    this.target = target;
    this.login = login;
    this.setRole = setRole;
    this.result = result;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    BackendMessage message = (BackendMessage) msg;
    if (message instanceof AuthenticationCleartextPassword) {
      ctx.writeAndFlush(AuthenticationResponse.password(password()));
    } else if (message instanceof AuthenticationMd5Password md5) {
      ctx.writeAndFlush(AuthenticationResponse.password(md5(password(), md5.salt())));
    } else if (message instanceof AuthenticationSasl sasl) {
      if (!sasl.mechanisms().contains(ScramSha256Client.MECHANISM)) {
        throw new UpstreamAuthenticationException(
            "upstream offers only SASL mechanisms " + sasl.mechanisms());
      }
      scram = new ScramSha256Client(password(), RANDOM);
      ctx.writeAndFlush(
          AuthenticationResponse.saslInitial(
              ScramSha256Client.MECHANISM, scram.clientFirstMessage()));
    } else if (message instanceof AuthenticationSaslContinue next) {
      ctx.writeAndFlush(AuthenticationResponse.sasl(scram().clientFinalMessage(next.data())));
    } else if (message instanceof AuthenticationSaslFinal last) {
      scram().verifyServerFinal(last.data());
    } else if (message instanceof AuthenticationOther other) {
      throw new UpstreamAuthenticationException(
          "upstream asks for an authentication method Portcullis does not support (code "
              + other.code()
              + ")");
    } else if (message instanceof ParameterStatus status) {
      parameters.add(status);
    } else if (message instanceof BackendKeyData keyData) {
      key = keyData;
    } else if (message instanceof ErrorResponse error) {
      throw new UpstreamAuthenticationException(
          "upstream refused the login as "
              + login.user()
              + " (SQLSTATE "
              + error.sqlState()
              + "): "
              + error.message());
    } else if (message instanceof ReadyForQuery && setRole.isPresent()) {
      ctx.writeAndFlush(new Query("SET ROLE " + quoteIdentifier(setRole.get())));
      setRole = Optional.empty();
    } else if (message instanceof ReadyForQuery ready) {
      ctx.channel().config().setAutoRead(false);
      ctx.pipeline().remove(this);
      result.complete(
          new UpstreamConnection(
              ctx.channel(), List.copyOf(parameters), key, ready.transactionStatus()));
    }
    // AuthenticationOk and NoticeResponse during login need no action.
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    result.completeExceptionally(
        new UpstreamAuthenticationException("upstream closed the connection during login"));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    result.completeExceptionally(cause);
    ctx.close();
  }

  private ScramSha256Client scram() {
    if (scram == null) {
      throw new UpstreamAuthenticationException("SASL message before the SASL exchange began");
    }
    return scram;
  }

  /** A PostgreSQL quoted identifier: the role name cannot close the quotes. */
  private static String quoteIdentifier(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  private String password() {
    return login
        .password()
        .resolve()
        .orElseThrow(
            () ->
                new UpstreamAuthenticationException(
                    "upstream asks for a password but target '"
                        + target.name()
                        + "' has none configured for "
                        + login.user()));
  }

  /** PostgreSQL's MD5 scheme: "md5" + md5(md5(password + user) + salt), in lower-case hex. */
  private String md5(String password, byte[] salt) {
    try {
      MessageDigest digest = MessageDigest.getInstance("MD5");
      String inner =
          HexFormat.of()
              .formatHex(digest.digest((password + login.user()).getBytes(StandardCharsets.UTF_8)));
      digest.update(inner.getBytes(StandardCharsets.US_ASCII));
      digest.update(salt);
      return "md5" + HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 unavailable", e);
    }
  }
}
