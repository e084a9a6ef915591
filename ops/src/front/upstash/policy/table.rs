//! The refusal tables: the reasons, the whole commands and the subcommands refused, each
//! with its source (see the parent module's docs).

use super::Reason;

pub(super) const BLOCKING: Reason = Reason::NotOverRest("blocking commands");
pub(super) const SUBSCRIPTIONS: Reason =
    Reason::NotOverRest("subscriptions (only PUBLISH and PUBSUB are commands)");
pub(super) const TRANSACTION: Reason =
    Reason::NotOverRest("transaction commands (use the /multi-exec endpoint)");
pub(super) const CONNECTION: Reason =
    Reason::NotOverRest("connection commands other than PING and ECHO");
pub(super) const MONITOR: Reason =
    Reason::NotOverRest("MONITOR (a separate /monitor event stream)");
pub(super) const CLUSTER: Reason = Reason::NotOnUpstash("cluster commands");
pub(super) const ADMIN: Reason = Reason::NotOnUpstash("server administration");
pub(super) const SCRIPT_ADMIN: Reason =
    Reason::NotOnUpstash("SCRIPT subcommands other than LOAD, EXISTS and FLUSH");
pub(super) const REDIS_7_0: Reason = Reason::Since("7.0");
pub(super) const REDIS_7_2: Reason = Reason::Since("7.2");
pub(super) const REDIS_7_4: Reason = Reason::Since("7.4");
pub(super) const REDIS_8_0: Reason = Reason::Since("8.0");

/// Whole commands refused, by upper-case name. A command with two reasons lists the
/// version one (BLMPOP is both blocking and 7.0): scripts see that one too.
pub(super) const COMMANDS: &[(&str, Reason)] = &[
    // Blocking (REST table: List and SortedSet rows).
    ("BLPOP", BLOCKING),
    ("BRPOP", BLOCKING),
    ("BRPOPLPUSH", BLOCKING),
    ("BLMOVE", BLOCKING),
    ("BZPOPMIN", BLOCKING),
    ("BZPOPMAX", BLOCKING),
    // Pub/sub (REST table: only PUBLISH and PUBSUB).
    ("SUBSCRIBE", SUBSCRIPTIONS),
    ("PSUBSCRIBE", SUBSCRIPTIONS),
    ("UNSUBSCRIBE", SUBSCRIPTIONS),
    ("PUNSUBSCRIBE", SUBSCRIPTIONS),
    ("MONITOR", MONITOR),
    // Transactions (REST table: WATCH/UNWATCH/DISCARD; MULTI/EXEC are /multi-exec).
    ("MULTI", TRANSACTION),
    ("EXEC", TRANSACTION),
    ("DISCARD", TRANSACTION),
    ("WATCH", TRANSACTION),
    ("UNWATCH", TRANSACTION),
    // Connection (REST table: only PING and ECHO).
    ("AUTH", CONNECTION),
    ("HELLO", CONNECTION),
    ("QUIT", CONNECTION),
    ("RESET", CONNECTION),
    ("SELECT", CONNECTION),
    ("CLIENT", CONNECTION),
    // Cluster (both tables).
    ("CLUSTER", CLUSTER),
    ("ASKING", CLUSTER),
    ("READONLY", CLUSTER),
    ("READWRITE", CLUSTER),
    // Server administration (not in the compatibility page's Server/Generic rows).
    ("CONFIG", ADMIN),
    ("DEBUG", ADMIN),
    ("SAVE", ADMIN),
    ("BGSAVE", ADMIN),
    ("BGREWRITEAOF", ADMIN),
    ("SHUTDOWN", ADMIN),
    ("REPLICAOF", ADMIN),
    ("SLAVEOF", ADMIN),
    ("FAILOVER", ADMIN),
    ("SYNC", ADMIN),
    ("PSYNC", ADMIN),
    ("MODULE", ADMIN),
    ("MIGRATE", ADMIN),
    ("MOVE", ADMIN),
    ("SWAPDB", ADMIN),
    ("WAIT", ADMIN),
    ("SLOWLOG", ADMIN),
    ("MEMORY", ADMIN),
    // New in Redis 7.0 (COMMAND DOCS `since`).
    ("BLMPOP", REDIS_7_0),
    ("BZMPOP", REDIS_7_0),
    ("LMPOP", REDIS_7_0),
    ("ZMPOP", REDIS_7_0),
    ("SINTERCARD", REDIS_7_0),
    ("ZINTERCARD", REDIS_7_0),
    ("EXPIRETIME", REDIS_7_0),
    ("PEXPIRETIME", REDIS_7_0),
    ("LCS", REDIS_7_0),
    ("SORT_RO", REDIS_7_0),
    ("EVAL_RO", REDIS_7_0),
    ("EVALSHA_RO", REDIS_7_0),
    ("FCALL", REDIS_7_0),
    ("FCALL_RO", REDIS_7_0),
    ("FUNCTION", REDIS_7_0),
    ("SPUBLISH", REDIS_7_0),
    ("SSUBSCRIBE", REDIS_7_0),
    ("SUNSUBSCRIBE", REDIS_7_0),
    // Later releases (redis.io "Available since").
    ("WAITAOF", REDIS_7_2),
    ("HEXPIRE", REDIS_7_4),
    ("HPEXPIRE", REDIS_7_4),
    ("HEXPIREAT", REDIS_7_4),
    ("HPEXPIREAT", REDIS_7_4),
    ("HTTL", REDIS_7_4),
    ("HPTTL", REDIS_7_4),
    ("HEXPIRETIME", REDIS_7_4),
    ("HPEXPIRETIME", REDIS_7_4),
    ("HPERSIST", REDIS_7_4),
    ("HGETDEL", REDIS_8_0),
    ("HGETEX", REDIS_8_0),
    ("HSETEX", REDIS_8_0),
];

/// Subcommands refused where the command itself is fine.
pub(super) const SUBCOMMANDS: &[(&str, &str, Reason)] = &[
    ("ACL", "DRYRUN", REDIS_7_0),
    ("COMMAND", "DOCS", REDIS_7_0),
    ("COMMAND", "LIST", REDIS_7_0),
    ("COMMAND", "GETKEYSANDFLAGS", REDIS_7_0),
    ("LATENCY", "HISTOGRAM", REDIS_7_0),
    ("PUBSUB", "SHARDCHANNELS", REDIS_7_0),
    ("PUBSUB", "SHARDNUMSUB", REDIS_7_0),
    ("SCRIPT", "KILL", SCRIPT_ADMIN),
    ("SCRIPT", "DEBUG", SCRIPT_ADMIN),
];
