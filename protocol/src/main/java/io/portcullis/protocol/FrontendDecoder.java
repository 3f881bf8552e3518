package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.CancelRequest;
import io.portcullis.protocol.FrontendMessage.Close;
import io.portcullis.protocol.FrontendMessage.CopyFail;
import io.portcullis.protocol.FrontendMessage.Describe;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Flush;
import io.portcullis.protocol.FrontendMessage.FunctionCall;
import io.portcullis.protocol.FrontendMessage.GssEncRequest;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.SslRequest;
import io.portcullis.protocol.FrontendMessage.Startup;
import io.portcullis.protocol.FrontendMessage.Sync;
import io.portcullis.protocol.FrontendMessage.Terminate;
import io.portcullis.protocol.WireMessage.CopyData;
import io.portcullis.protocol.WireMessage.CopyDone;
import java.util.List;

/**
 * Server-side decoder of what clients send, producing {@link FrontendMessage}s.
 *
 * <p>It starts in the startup phase (untyped packets: SSLRequest, GSSENCRequest, CancelRequest,
 * StartupMessage) and switches to typed messages after a StartupMessage. Malformed input is fired
 * as a {@link ProtocolException} through {@code exceptionCaught}, after which all input is
 * discarded; so is everything after a CancelRequest.
 */
public final class FrontendDecoder extends ByteToMessageDecoder {

  private static final int MIN_STARTUP_PACKET_BYTES = 8;

  private static final MessageTypes<FrontendMessage> TYPES =
      new MessageTypes<FrontendMessage>("frontend")
          .add('Q', "Query", Query::decode)
          .add('P', "Parse", Parse::decode)
          .add('B', "Bind", Bind::decode)
          .add('D', "Describe", Describe::decode)
          .add('E', "Execute", Execute::decode)
          .add('C', "Close", Close::decode)
          .add('S', "Sync", body -> Sync.INSTANCE)
          .add('H', "Flush", body -> Flush.INSTANCE)
          .add('X', "Terminate", body -> Terminate.INSTANCE)
          .add('d', "CopyData", CopyData::decode)
          .add('c', "CopyDone", body -> CopyDone.INSTANCE)
          .add('f', "CopyFail", CopyFail::decode)
          .add('F', "FunctionCall", FunctionCall::decode)
          .add('p', "AuthenticationResponse", AuthenticationResponse::decode);

  private enum State {
    STARTUP,
    MESSAGES,
    CANCELLED,
    FAILED
  }

  private final int maxStartupPacketBytes;
  private volatile int maxMessageBytes;
  private State state = State.STARTUP;

  public FrontendDecoder(int maxStartupPacketBytes, int maxMessageBytes) {
    if (maxStartupPacketBytes < MIN_STARTUP_PACKET_BYTES || maxMessageBytes < Integer.BYTES) {
      throw new IllegalArgumentException(
          "limits too small: startup packet "
              + maxStartupPacketBytes
              + " bytes, message "
              + maxMessageBytes
              + " bytes");
    }
    this.maxStartupPacketBytes = maxStartupPacketBytes;
    this.maxMessageBytes = maxMessageBytes;
  }

  /**
   * A password message larger than the limit is a failed login, not a broken client: a 2 MB "token"
   * is answered like any other invalid credential.
   */
  private void refuseOversizedPassword(ByteBuf in) {
    if (in.readableBytes() < 5 || in.getByte(in.readerIndex()) != 'p') {
      return;
    }
    int length = in.getInt(in.readerIndex() + 1);
    if (length > maxMessageBytes) {
      throw new ProtocolException(
          "28P01",
          "password authentication failed: the password message of "
              + length
              + " bytes is larger than any token this gateway accepts ("
              + maxMessageBytes
              + " bytes)");
    }
  }

  /**
   * Changes the largest message accepted from now on: the server keeps it small until the client
   * has authenticated, so that an anonymous peer cannot make it buffer a large message.
   */
  public void maxMessageBytes(int maxMessageBytes) {
    if (maxMessageBytes < Integer.BYTES) {
      throw new IllegalArgumentException("message limit too small: " + maxMessageBytes);
    }
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    try {
      switch (state) {
        case STARTUP -> decodeStartupPacket(in, out);
        case MESSAGES -> {
          refuseOversizedPassword(in);
          FrontendMessage message = TYPES.read(in, maxMessageBytes);
          if (message != null) {
            out.add(message);
          }
        }
        case CANCELLED, FAILED -> in.skipBytes(in.readableBytes());
      }
    } catch (ProtocolException e) {
      state = State.FAILED;
      in.skipBytes(in.readableBytes());
      ctx.fireExceptionCaught(e);
    }
  }

  /**
   * {@code int32 len | int32 code | body}, where the code is a request code or protocol version.
   */
  private void decodeStartupPacket(ByteBuf in, List<Object> out) {
    if (in.readableBytes() < Integer.BYTES) {
      return;
    }
    int length = in.getInt(in.readerIndex());
    if (length < MIN_STARTUP_PACKET_BYTES || length > maxStartupPacketBytes) {
      throw new ProtocolException(
          "invalid startup packet length "
              + length
              + ": it must be between "
              + MIN_STARTUP_PACKET_BYTES
              + " and "
              + maxStartupPacketBytes
              + " bytes");
    }
    if (in.readableBytes() < length) {
      return;
    }
    in.skipBytes(Integer.BYTES);
    ByteBuf body = in.readSlice(length - Integer.BYTES);
    int code = body.getInt(body.readerIndex());
    switch (code) {
      case SslRequest.CODE -> {
        out.add(Wire.decode("SSLRequest", body, SslRequest::decode));
        discardEarlyBytes(in);
      }
      case GssEncRequest.CODE -> {
        out.add(Wire.decode("GSSENCRequest", body, GssEncRequest::decode));
        discardEarlyBytes(in);
      }
      case CancelRequest.CODE -> {
        out.add(Wire.decode("CancelRequest", body, CancelRequest::decode));
        state = State.CANCELLED;
      }
      default -> {
        if (code >>> 16 != 3) {
          throw new ProtocolException(
              "unsupported frontend protocol "
                  + (code >>> 16)
                  + "."
                  + (code & 0xFFFF)
                  + ": Portcullis speaks 3.x");
        }
        out.add(Wire.decode("startup", body, Startup::decode));
        state = State.MESSAGES;
      }
    }
  }

  /**
   * Bytes that arrived together with an SSLRequest or GSSENCRequest were sent before the encryption
   * handshake, so a man in the middle could have injected them (CVE-2021-23214); they must never be
   * executed.
   */
  private static void discardEarlyBytes(ByteBuf in) {
    in.skipBytes(in.readableBytes());
  }
}
