"""The batch-native worker: confluent-kafka batches in, a RocksDB state engine, changelog and decision cuts out."""
