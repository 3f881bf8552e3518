package io.portcullis.persistence.journal;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.persistence.journal.japi.AsyncWriteJournal;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * The journal plugin of every entity of the node. It stores exactly what pekko-persistence-jdbc 1.1
 * stores, in its tables, so that its read journal and snapshot store, {@code JournalReader} and
 * {@code ChainCheck} read it as before; but all entities' writes go through one {@link
 * GroupCommitWriter}, so that one commit carries the events of many sessions.
 */
public final class GroupCommitJournal extends AsyncWriteJournal {

  /** The plugin's id, and the path of its settings. */
  public static final String PLUGIN_ID = "group-commit-journal";

  private final Serialization serialization = SerializationExtension.get(context().system());
  private final GroupCommitWriter writer;
  private final JournalQueries queries;

  /**
   * The last unfinished write of each entity. A restarted entity reads its highest sequence number
   * only after that write, as pekko-persistence-jdbc does, or it could reuse a number.
   */
  private final Map<String, CompletableFuture<Void>> writesInProgress = new ConcurrentHashMap<>();

  public GroupCommitJournal(Config config) {
    JournalDatabase database =
        new JournalDatabase(
            config.getString("url"), config.getString("user"), config.getString("password"), false);
    writer =
        new GroupCommitWriter(
            database, config.getInt("max-batch-events"), config.getInt("max-pending-writes"));
    queries = new JournalQueries(database);
  }

  @Override
  public Future<Iterable<Optional<Exception>>> doAsyncWriteMessages(
      Iterable<AtomicWrite> messages) {
    long now = System.currentTimeMillis();
    List<Optional<Exception>> results = new ArrayList<>();
    List<JournalRow> rows = new ArrayList<>();
    Set<String> persistenceIds = new HashSet<>();
    for (AtomicWrite write : messages) {
      List<JournalRow> serialized = new ArrayList<>(write.size());
      try {
        for (PersistentRepr repr : CollectionConverters.asJava(write.payload())) {
          serialized.add(row(repr, now));
        }
      } catch (Exception e) {
        // An event that cannot be serialized rejects its own write only.
        results.add(Optional.of(e));
        continue;
      }
      rows.addAll(serialized);
      persistenceIds.add(write.persistenceId());
      results.add(Optional.empty());
    }
    if (rows.isEmpty()) {
      return FutureConverters.asScala(CompletableFuture.completedFuture(results));
    }
    CompletableFuture<Void> written = writer.write(rows);
    for (String persistenceId : persistenceIds) {
      writesInProgress.put(persistenceId, written);
      written.whenComplete((done, failure) -> writesInProgress.remove(persistenceId, written));
    }
    return FutureConverters.asScala(
        written.<Iterable<Optional<Exception>>>thenApply(done -> results));
  }

  @Override
  public Future<Long> doAsyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
    CompletableFuture<Void> inProgress = writesInProgress.get(persistenceId);
    CompletableFuture<Long> highest =
        inProgress == null
            ? queries.highestSequenceNr(persistenceId)
            : inProgress
                .handle((done, failure) -> persistenceId)
                .thenCompose(queries::highestSequenceNr);
    return FutureConverters.asScala(highest);
  }

  @Override
  public Future<Void> doAsyncReplayMessages(
      String persistenceId,
      long fromSequenceNr,
      long toSequenceNr,
      long max,
      Consumer<PersistentRepr> replayCallback) {
    return FutureConverters.asScala(
        queries.replay(
            persistenceId,
            fromSequenceNr,
            toSequenceNr,
            max,
            row -> replayCallback.accept(repr(row))));
  }

  @Override
  public Future<Void> doAsyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
    return FutureConverters.asScala(queries.deleteTo(persistenceId, toSequenceNr));
  }

  @Override
  public void postStop() throws Exception {
    writer.close();
    queries.close();
    super.postStop();
  }

  /** As pekko-persistence-jdbc: the event without its Tagged wrapper, its tags beside it. */
  private JournalRow row(PersistentRepr repr, long now) {
    Object event = repr.payload();
    Set<String> tags = Set.of();
    if (event instanceof Tagged tagged) {
      event = tagged.payload();
      tags = CollectionConverters.asJava(tagged.tags());
    }
    Optional<JournalRow.Payload> metadata =
        repr.metadata().isDefined()
            ? Optional.of(serialize(repr.metadata().get()))
            : Optional.empty();
    return new JournalRow(
        repr.persistenceId(),
        repr.sequenceNr(),
        repr.deleted(),
        repr.writerUuid(),
        now,
        repr.manifest(),
        serialize(event),
        metadata,
        tags);
  }

  private JournalRow.Payload serialize(Object value) {
    Serializer serializer = serialization.findSerializerFor(value);
    return new JournalRow.Payload(
        serializer.identifier(),
        Serializers.manifestFor(serializer, value),
        serialization.serialize(value).get());
  }

  private PersistentRepr repr(JournalRow row) {
    PersistentRepr repr =
        PersistentRepr.apply(
                deserialize(row.event()),
                row.sequenceNr(),
                row.persistenceId(),
                row.adapterManifest(),
                row.deleted(),
                ActorRef.noSender(),
                row.writer())
            .withTimestamp(row.timestamp());
    return row.metadata().map(metadata -> repr.withMetadata(deserialize(metadata))).orElse(repr);
  }

  private Object deserialize(JournalRow.Payload payload) {
    return serialization
        .deserialize(payload.bytes(), payload.serializerId(), payload.manifest())
        .get();
  }
}
