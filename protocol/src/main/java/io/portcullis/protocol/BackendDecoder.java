package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.portcullis.protocol.BackendMessage.Authentication;
import io.portcullis.protocol.BackendMessage.AuthenticationCleartextPassword;
import io.portcullis.protocol.BackendMessage.AuthenticationMd5Password;
import io.portcullis.protocol.BackendMessage.AuthenticationOk;
import io.portcullis.protocol.BackendMessage.AuthenticationOther;
import io.portcullis.protocol.BackendMessage.AuthenticationSasl;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslContinue;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslFinal;
import io.portcullis.protocol.BackendMessage.BackendKeyData;
import io.portcullis.protocol.BackendMessage.BindComplete;
import io.portcullis.protocol.BackendMessage.CloseComplete;
import io.portcullis.protocol.BackendMessage.CommandComplete;
import io.portcullis.protocol.BackendMessage.CopyBothResponse;
import io.portcullis.protocol.BackendMessage.CopyInResponse;
import io.portcullis.protocol.BackendMessage.CopyOutResponse;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.EmptyQueryResponse;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.FunctionCallResponse;
import io.portcullis.protocol.BackendMessage.NegotiateProtocolVersion;
import io.portcullis.protocol.BackendMessage.NoData;
import io.portcullis.protocol.BackendMessage.NoticeResponse;
import io.portcullis.protocol.BackendMessage.NotificationResponse;
import io.portcullis.protocol.BackendMessage.ParameterDescription;
import io.portcullis.protocol.BackendMessage.ParameterStatus;
import io.portcullis.protocol.BackendMessage.ParseComplete;
import io.portcullis.protocol.BackendMessage.PortalSuspended;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.BackendMessage.RowDescription;
import io.portcullis.protocol.WireMessage.CopyData;
import io.portcullis.protocol.WireMessage.CopyDone;
import java.util.List;

/**
 * Client-side decoder of what a PostgreSQL server sends, producing {@link BackendMessage}s. The
 * server's one-byte answer to SSLRequest must be consumed before this decoder is added. Malformed
 * input is fired as a {@link ProtocolException} through {@code exceptionCaught}, after which all
 * input is discarded.
 */
public final class BackendDecoder extends ByteToMessageDecoder {

  private static final MessageTypes<BackendMessage> TYPES =
      new MessageTypes<BackendMessage>("backend")
          .add('R', "Authentication", BackendDecoder::decodeAuthentication)
          .add('K', "BackendKeyData", BackendKeyData::decode)
          .add('2', "BindComplete", body -> BindComplete.INSTANCE)
          .add('3', "CloseComplete", body -> CloseComplete.INSTANCE)
          .add('C', "CommandComplete", CommandComplete::decode)
          .add('d', "CopyData", CopyData::decode)
          .add('c', "CopyDone", body -> CopyDone.INSTANCE)
          .add('G', "CopyInResponse", CopyInResponse::decode)
          .add('H', "CopyOutResponse", CopyOutResponse::decode)
          .add('W', "CopyBothResponse", CopyBothResponse::decode)
          .add('D', "DataRow", DataRow::decode)
          .add('I', "EmptyQueryResponse", body -> EmptyQueryResponse.INSTANCE)
          .add('E', "ErrorResponse", ErrorResponse::decode)
          .add('N', "NoticeResponse", NoticeResponse::decode)
          .add('V', "FunctionCallResponse", FunctionCallResponse::decode)
          .add('v', "NegotiateProtocolVersion", NegotiateProtocolVersion::decode)
          .add('n', "NoData", body -> NoData.INSTANCE)
          .add('A', "NotificationResponse", NotificationResponse::decode)
          .add('t', "ParameterDescription", ParameterDescription::decode)
          .add('S', "ParameterStatus", ParameterStatus::decode)
          .add('1', "ParseComplete", body -> ParseComplete.INSTANCE)
          .add('s', "PortalSuspended", body -> PortalSuspended.INSTANCE)
          .add('Z', "ReadyForQuery", ReadyForQuery::decode)
          .add('T', "RowDescription", RowDescription::decode);

  private final int maxMessageBytes;
  private boolean failed;

  public BackendDecoder(int maxMessageBytes) {
    if (maxMessageBytes < Integer.BYTES) {
      throw new IllegalArgumentException("message limit too small: " + maxMessageBytes + " bytes");
    }
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    try {
      BackendMessage message = TYPES.read(in, maxMessageBytes);
      if (message != null) {
        out.add(message);
      }
    } catch (ProtocolException e) {
      failed = true;
      in.skipBytes(in.readableBytes());
      ctx.fireExceptionCaught(e);
    }
  }

  /** {@code int32 code | data}: the code selects the request. */
  private static Authentication decodeAuthentication(ByteBuf body) {
    int code = body.readInt();
    return switch (code) {
      case AuthenticationOk.CODE -> AuthenticationOk.INSTANCE;
      case AuthenticationCleartextPassword.CODE -> AuthenticationCleartextPassword.INSTANCE;
      case AuthenticationMd5Password.CODE -> AuthenticationMd5Password.decode(body);
      case AuthenticationSasl.CODE -> AuthenticationSasl.decode(body);
      case AuthenticationSaslContinue.CODE -> AuthenticationSaslContinue.decode(body);
      case AuthenticationSaslFinal.CODE -> AuthenticationSaslFinal.decode(body);
      default -> new AuthenticationOther(code, Wire.readRest(body));
    };
  }
}
