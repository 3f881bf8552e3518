package io.portcullis.node.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse;
import io.portcullis.protocol.FrontendMessage.Startup;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.postgresql.PGConnection;

/**
 * Everything a client was shown, for tests that look for values that must never reach it: with
 * pgjdbc (column names, values, warnings, errors, notifications) or as protocol messages.
 */
public final class ClientTranscript {

  private ClientTranscript() {}

  /**
   * Runs each statement, adding every column name, value, warning, error and notification text to
   * {@code seen}; returns the first row of the first result (empty if none). Two lines are not SQL:
   * {@code SLEEP} waits until the gateway has read the target's catalog again after DDL, and {@code
   * COPYOUT sql} runs a {@code COPY … TO STDOUT}.
   */
  public static List<String> run(Connection connection, String[] script, List<String> seen)
      throws SQLException, InterruptedException {
    List<String> firstRow = null;
    for (String sql : script) {
      if (sql.equals("SLEEP")) {
        Thread.sleep(1500); // the gateway reads its catalog again 300 ms after DDL
        continue;
      }
      if (sql.startsWith("COPYOUT ")) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
          connection.unwrap(PGConnection.class).getCopyAPI().copyOut(sql.substring(8), out);
        } catch (SQLException | java.io.IOException e) {
          seen.add(e.getMessage());
        }
        seen.add(out.toString(StandardCharsets.ISO_8859_1));
        continue;
      }
      try (Statement statement = connection.createStatement()) {
        boolean rows = statement.execute(sql);
        while (true) {
          if (rows) {
            try (ResultSet rs = statement.getResultSet()) {
              while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                  seen.add(rs.getMetaData().getColumnLabel(i));
                  row.add(rs.getString(i));
                }
                seen.addAll(row);
                firstRow = firstRow == null ? row : firstRow;
              }
            }
          } else if (statement.getUpdateCount() == -1) {
            break;
          }
          rows = statement.getMoreResults();
        }
        for (SQLWarning w = statement.getWarnings(); w != null; w = w.getNextWarning()) {
          seen.add(w.getMessage());
        }
      } catch (SQLException e) {
        seen.add(e.getMessage());
        seen.add(String.valueOf(e.getCause()));
      }
    }
    connection.createStatement().execute("SELECT 1");
    var notifications = connection.unwrap(PGConnection.class).getNotifications();
    if (notifications != null) {
      for (var n : notifications) {
        seen.add(n.getName());
        seen.add(n.getParameter());
      }
    }
    return firstRow == null ? List.of() : firstRow;
  }

  /** A protocol-level client logged in to database {@code main} with a token as its password. */
  public static RawClient rawClient(int port, String user, String token) throws Exception {
    RawClient client = new RawClient(port);
    client.send(new Startup(3 << 16, Map.of("user", user, "database", "main")));
    client.readUntil(BackendMessage.AuthenticationCleartextPassword.class::isInstance);
    client.send(AuthenticationResponse.password(token)).readUntil(ReadyForQuery.class::isInstance);
    return client;
  }

  /** Every message up to and including the {@code readies}-th ReadyForQuery. */
  public static List<BackendMessage> untilReady(RawClient client, int readies) throws Exception {
    List<BackendMessage> all = new ArrayList<>();
    for (int i = 0; i < readies; i++) {
      all.addAll(client.readUntil(ReadyForQuery.class::isInstance));
    }
    return all;
  }

  /** The messages as they were on the wire. */
  public static byte[] bytesOf(List<BackendMessage> messages) {
    ByteBuf buf = Unpooled.buffer();
    messages.forEach(m -> m.writeTo(buf));
    byte[] bytes = new byte[buf.readableBytes()];
    buf.readBytes(bytes);
    buf.release();
    return bytes;
  }

  /**
   * Each of {@code secrets} that the client received, in its raw bytes (with what surrounds it) or
   * in a decoded value; empty when none.
   */
  public static String secretsSeen(List<String> secrets, byte[] received, List<String> decoded) {
    String raw = new String(received, StandardCharsets.ISO_8859_1);
    List<String> found = new ArrayList<>();
    for (String secret : secrets) {
      int at = raw.indexOf(secret);
      if (at >= 0) {
        String around =
            raw.substring(Math.max(0, at - 60), Math.min(raw.length(), at + secret.length() + 20));
        found.add(secret + " in [" + around.replaceAll("[^\\x20-\\x7e]", ".") + "]");
      } else {
        for (String value : decoded) {
          if (value != null && value.contains(secret)) {
            found.add(secret + " decoded in [" + value + "]");
            break;
          }
        }
      }
    }
    return String.join("; ", found);
  }
}
