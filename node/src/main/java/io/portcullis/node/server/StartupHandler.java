package io.portcullis.node.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.portcullis.node.session.SessionActor;
import io.portcullis.node.session.StartupNegotiation;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.CancelRequest;
import io.portcullis.protocol.FrontendMessage.GssEncRequest;
import io.portcullis.protocol.FrontendMessage.SslRequest;
import io.portcullis.protocol.FrontendMessage.Startup;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Handles a client connection's first packets on the event loop: TLS negotiation (which must change
 * the Netty pipeline before the next byte is read), CancelRequest, and the StartupMessage, which
 * creates the session actor. Until the session's pipeline takes over the socket, later messages are
 * handed to that actor.
 */
public final class StartupHandler extends ChannelInboundHandlerAdapter {

  private final Optional<SslContext> tls;
  private final StartupNegotiation negotiation;
  private final SessionFactory sessions;
  private ActorRef<SessionActor.Command> session;
  private boolean refused;

  /** Creates the actor of a session whose StartupMessage was accepted. */
  public interface SessionFactory {
    ActorRef<SessionActor.Command> open(
        io.netty.channel.Channel client, StartupNegotiation.Accepted startup);

    void cancel(CancelRequest request);
  }

  StartupHandler(
      Optional<SslContext> tls, StartupNegotiation negotiation, SessionFactory sessions) {
    this.tls = tls;
    this.negotiation = negotiation;
    this.sessions = sessions;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.read();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    FrontendMessage message = (FrontendMessage) msg;
    if (refused) {
      return;
    }
    if (session != null) {
      session.tell(new SessionActor.FromClient(message));
      return;
    }
    if (message == SslRequest.INSTANCE) {
      negotiateTls(ctx);
    } else if (message == GssEncRequest.INSTANCE) {
      ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
      ctx.read();
    } else if (message instanceof CancelRequest cancel) {
      sessions.cancel(cancel);
      ctx.close();
    } else if (message instanceof Startup startup) {
      start(ctx, startup);
    } else {
      refuse(ctx, "08P01", "expected a startup message");
    }
  }

  private void negotiateTls(ChannelHandlerContext ctx) {
    if (tls.isEmpty() || ctx.pipeline().get(SslHandler.class) != null) {
      ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
    } else {
      // 'S' goes out in clear text; everything after it is TLS.
      ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}));
      ctx.pipeline().addFirst("tls", tls.get().newHandler(ctx.alloc()));
    }
    ctx.read();
  }

  private void start(ChannelHandlerContext ctx, Startup startup) {
    StartupNegotiation.Outcome outcome = negotiation.negotiate(startup);
    if (outcome instanceof StartupNegotiation.Accepted accepted) {
      accepted.negotiation().ifPresent(ctx::write);
      session = sessions.open(ctx.channel(), accepted);
    } else if (outcome instanceof StartupNegotiation.Refused refused) {
      refuse(ctx, refused.sqlState(), refused.message());
    }
  }

  private void refuse(ChannelHandlerContext ctx, String sqlState, String message) {
    refused = true;
    ProtocolErrorHandler.refuse(ctx.channel(), ErrorResponse.fatal(sqlState, message));
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (session != null) {
      session.tell(new SessionActor.ClientDisconnected());
    }
    ctx.fireChannelInactive();
  }
}
