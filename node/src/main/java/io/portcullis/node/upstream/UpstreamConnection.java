package io.portcullis.node.upstream;

import io.netty.channel.Channel;
import io.portcullis.protocol.BackendMessage.BackendKeyData;
import io.portcullis.protocol.BackendMessage.ParameterStatus;
import java.util.List;

/**
 * An authenticated upstream connection, idle and ready for queries; reads are off until the
 * session's pipeline asks for them.
 *
 * @param parameters the ParameterStatus messages the upstream sent during startup
 * @param key the upstream's own cancel key: never shown to the client
 */
public record UpstreamConnection(
    Channel channel,
    List<ParameterStatus> parameters,
    BackendKeyData key,
    char transactionStatus) {}
