//! `conf.d/datakit.conf`: the agent's main configuration, with every key's default, meaning and
//! environment override declared in one place.

use std::collections::BTreeMap;

use super::duration::Dur;
use crate::config_struct;

config_struct! {
    "HTTP API server: third-party data, `datakit monitor` and self-metrics are served here."
    pub struct HttpApiConfig {
        "Address the API listens on: `host:port`, `[::]:port`, or an absolute path for a Unix socket. A non-loopback address exposes the API to the network."
        env("ENV_HTTP_LISTEN")
        pub listen: String = "localhost:9529".into(),
        "An additional Unix socket to listen on (empty: none)."
        env("ENV_HTTP_LISTEN_SOCKET")
        pub listen_socket: String = String::new(),
        "Answer unknown paths with a plain 404 instead of the welcome page."
        env("ENV_DISABLE_404PAGE")
        pub disable_404page: bool = false,
        "Paths reachable from non-loopback clients. Empty: every `/v1/write/<category>` path (plus `/v1/ping`). Setting it replaces that default."
        env("ENV_HTTP_PUBLIC_APIS")
        pub public_apis: Vec<String> = Vec::new(),
        "Time limit for one request."
        env("ENV_HTTP_TIMEOUT")
        pub timeout: Dur = Dur::from_secs(30),
        "Largest request body accepted, in bytes, before and after gzip; bigger bodies get 413."
        env("ENV_HTTP_MAX_BODY_SIZE")
        pub max_body_size: u64 = 8 << 20,
        "Close idle keep-alive connections after `timeout`. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_HTTP_CLOSE_IDLE_CONNECTION")
        pub close_idle_connection: bool = false,
        "Requests per second allowed per client and route (0 disables the limit); excess requests get 429."
        env("ENV_REQUEST_RATE_LIMIT")
        pub request_rate_limit: f64 = 100.0,
        "How long an idle client's rate-limit bucket is kept."
        env("ENV_REQUEST_RATE_LIMIT_TTL")
        pub request_rate_limit_ttl: Dur = Dur::from_secs(60),
        "Burst size of the per-client rate limit."
        env("ENV_REQUEST_RATE_LIMIT_BURST")
        pub request_rate_limit_burst: u64 = 500,
        "Header that carries the real client IP of RUM requests behind a proxy. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_RUM_ORIGIN_IP_HEADER")
        pub rum_origin_ip_header: String = "X-Forwarded-For".into(),
        "RUM application ids allowed to write (empty: all). Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_RUM_APP_ID_WHITE_LIST")
        pub rum_app_id_white_list: Vec<String> = Vec::new(),
        "Web origins (`https://app.example.com`) whose pages may write through the API. A request carrying an `Origin` header (sent by browsers) is refused with 403 unless its origin is listed; the RUM route `/v1/write/rum` takes any origin while the list is empty."
        env("ENV_HTTP_ALLOWED_CORS_ORIGINS", "ENV_ALLOWED_CORS_ORIGINS")
        pub allowed_cors_origins: Vec<String> = Vec::new(),
        "Bytes of request bodies held in memory at once, over all requests, compressed and decompressed (raised to twice `max_body_size` if lower). A request that finds it spent waits up to 2 s, then gets 503 with `Retry-After`."
        env("ENV_HTTP_MAX_BODY_MEMORY")
        pub max_body_memory: u64 = 64 << 20,
        "Threads that decompress, decode and check write bodies and run their scripts, apart from the threads that answer requests (0: the CPU cores, at least 2)."
        env("ENV_HTTP_WRITE_WORKERS")
        pub write_workers: u64 = 0,
        "Addresses or networks (`10.0.0.0/8`) of reverse proxies whose `X-Forwarded-For` / `X-Real-IP` headers name the client for rate limiting. Other peers' headers are ignored."
        env("ENV_HTTP_TRUSTED_PROXIES")
        pub trusted_proxies: Vec<String> = Vec::new(),
        "Connections one client address may hold open at once (0: no limit); more are closed at once. The API holds at most 1 024 connections in all."
        env("ENV_HTTP_MAX_CONNECTIONS_PER_IP")
        pub max_connections_per_ip: u64 = 128,
        "HTTPS for the API."
        pub tls: HttpTlsConfig = HttpTlsConfig::default(),
    }
}

config_struct! {
    "HTTPS for the API: served over TLS when both files are set."
    pub struct HttpTlsConfig {
        "PEM certificate chain file."
        env("ENV_HTTP_TLS_CRT")
        pub cert: String = String::new(),
        "PEM private key file."
        env("ENV_HTTP_TLS_KEY")
        pub privkey: String = String::new(),
    }
}

config_struct! {
    "Batching of collected points before they are sent."
    pub struct IoConfig {
        "Send a category's batch once it holds this many points."
        env("ENV_IO_MAX_CACHE_COUNT")
        pub max_cache_count: u64 = 1000,
        "Send a category's batch at least this often, however small."
        env("ENV_IO_FLUSH_INTERVAL")
        pub flush_interval: Dur = Dur::from_secs(10),
        "Batching workers per busy category (0: twice the CPU cores)."
        env("ENV_IO_FLUSH_WORKERS")
        pub flush_workers: u64 = 0,
        "Queue length between collectors and the batcher, in feeds (0: 128). Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_IO_FEED_CHAN_SIZE")
        pub feed_chan_size: u64 = 1,
        "Reset timestamps more than 2 h away from now to now (keeping the original in `__orig_time`)."
        env("ENV_IO_AUTO_TIMESTAMP_CORRECTION")
        pub auto_timestamp_correction: bool = true,
        "Gzip level of request bodies (1 fastest .. 9 smallest)."
        env("ENV_IO_GZIP_LEVEL")
        pub gzip_level: u32 = 1,
        "Filters: rules per category (`logging = [\"{ source = 'nginx' and status = 'debug' }\"]`); a point matching a rule of its category is dropped (counted as `filtered`). When any rule is set here, DataWay's filters are not pulled. The environment takes a JSON object of lists."
        env("ENV_IO_FILTERS")
        pub filters: BTreeMap<String, Vec<String>> = BTreeMap::new(),
    }
}

config_struct! {
    "An InfluxDB-compatible store (InfluxDB 1.x or 2.x, VictoriaMetrics, ...) receiving line protocol."
    pub struct InfluxOutputConfig {
        "Base URL, e.g. `http://127.0.0.1:8086`."
        pub url: String = String::new(),
        "Write API: 1 (`/write?db=`) or 2 (`/api/v2/write?org=&bucket=`)."
        pub version: u32 = 1,
        "Database (API 1)."
        pub database: String = "datakit".into(),
        "Retention policy (API 1; empty: the database's default)."
        pub retention_policy: String = String::new(),
        "User name (API 1; empty: none)."
        pub username: String = String::new(),
        "Password (API 1)."
        pub password: String = String::new(),
        "Organization (API 2)."
        pub org: String = String::new(),
        "Bucket (API 2)."
        pub bucket: String = String::new(),
        "API token (API 2), sent as `Authorization: Token <token>`."
        pub token: String = String::new(),
        "Categories sent to this store (empty: all)."
        pub categories: Vec<String> = Vec::new(),
        "Gzip request bodies."
        pub gzip: bool = true,
        "Time limit for one request."
        pub timeout: Dur = Dur::from_secs(30),
        "Skip TLS certificate verification (only for testing)."
        pub tls_insecure: bool = false,
    }
}

config_struct! {
    "Local line-protocol files, one per category under `path`, rotated by size. This is where data goes when neither DataWay nor InfluxDB is configured."
    pub struct FileOutputConfig {
        "Write the files even when another output is configured."
        pub enable: bool = false,
        "Directory (relative paths are under the workdir)."
        pub path: String = "data/out".into(),
        "Rotate a category's file at this size, in MiB."
        pub max_size_mb: u64 = 32,
        "Rotated files kept per category."
        pub max_files: u64 = 3,
    }
}

config_struct! {
    "Outputs besides DataWay."
    pub struct OutputsConfig {
        "InfluxDB-compatible stores, each a `[[outputs.influxdb]]` table."
        pub influxdb: Vec<InfluxOutputConfig> = Vec::new(),
        "Local files."
        pub file: FileOutputConfig = FileOutputConfig::default(),
    }
}

config_struct! {
    "Clock check against DataWay."
    pub struct DatawayNtpConfig {
        "Check the local clock against DataWay's."
        env_not("ENV_DATAWAY_DISABLE_NTP")
        pub enable: bool = true,
        "How often to check (at least 1m)."
        env("ENV_DATAWAY_NTP_INTERVAL")
        pub interval: Dur = Dur::from_secs(300),
        "Clock difference that triggers a correction (at least 5s)."
        env("ENV_DATAWAY_NTP_DIFF")
        pub diff: Dur = Dur::from_secs(30),
    }
}

config_struct! {
    "What is kept on disk: the journal of points not yet delivered, and the queue of bodies \
     waiting to be re-sent after failures."
    pub struct DatawayWalConfig {
        "Disk cap in GiB of each category's journal and of each output's disk queue. A full \
         disk queue drops its oldest bodies (counted and logged); a full journal pushes back \
         (see `no_drop_categories`)."
        env("ENV_DATAWAY_WAL_CAPACITY")
        pub max_capacity_gb: f64 = 2.0,
        "`-1`: journaled points always go through the journal file before they are sent; any \
         other value: they go straight on in memory while the memory queue has room (the \
         journal is then only read back after a crash or an overflow)."
        env("ENV_DATAWAY_WAL_MEM_CAPACITY")
        pub mem_cap: i64 = 0,
        "How often failed bodies are retried."
        env("ENV_DATAWAY_WAL_FAIL_CACHE_CLEAN_INTERVAL")
        pub fail_cache_clean_interval: Dur = Dur::from_secs(30),
        "Categories (by alias, e.g. `L`, or name) that are never dropped for want of room: their \
         bodies wait for room in a full disk queue instead of evicting the oldest, and their \
         inputs wait at the journal's cap instead of dropping (the write API answers 429 then, \
         and log tailers wait, whatever this says)."
        env("ENV_DATAWAY_WAL_NO_DROP_CATEGORIES")
        pub no_drop_categories: Vec<String> = Vec::new(),
        "Queue directory (empty: `<workdir>/cache/dw-wal`)."
        env("ENV_DATAWAY_WAL_PATH")
        pub path: String = String::new(),
        "Write-ahead journal: points the write API (and receivers) accept are on disk before the \
         answer, so a crash of the process (kill -9) loses none of them; they are replayed at \
         start-up. `false` keeps them in memory until delivered or queued."
        env("ENV_DATAWAY_WAL_JOURNAL")
        pub journal: bool = true,
        "How often the journal is synced to stable storage: an OS crash or power cut may lose \
         what came in since (`0s`: every append, slower)."
        env("ENV_DATAWAY_WAL_FSYNC_INTERVAL")
        pub fsync_interval: Dur = Dur::from_secs(1),
    }
}

impl DatawayWalConfig {
    /// `no_drop_categories` as categories (validation refuses names that are not one).
    pub fn no_drop(&self) -> Vec<crate::point::Category> {
        self.no_drop_categories
            .iter()
            .filter_map(|s| crate::point::Category::parse(s))
            .collect()
    }
}

config_struct! {
    "Where collected data is sent: Guance DataWay."
    pub struct DatawayConfig {
        "DataWay URLs with the workspace token, e.g. `https://openway.guance.com?token=tkn_...`. Empty: no DataWay; data goes to the local file sink."
        env("ENV_DATAWAY")
        pub urls: Vec<String> = Vec::new(),
        #[serde(alias = "timeout")]
        "Time limit for one request to DataWay (`timeout` is accepted as an old spelling)."
        env("ENV_DATAWAY_TIMEOUT")
        pub timeout_v2: Dur = Dur::from_secs(30),
        "Attempts per send (1..=10); 5xx and network errors are retried, 4xx never."
        env("ENV_DATAWAY_MAX_RETRY_COUNT")
        pub max_retry_count: u64 = 1,
        "Delay before the first retry; doubled on each further attempt."
        env("ENV_DATAWAY_RETRY_DELAY")
        pub retry_delay: Dur = Dur::from_secs(1),
        "HTTP(S) proxy for DataWay (empty: the `HTTPS_PROXY`/`HTTP_PROXY` environment)."
        env("ENV_DATAWAY_HTTP_PROXY")
        pub http_proxy: String = String::new(),
        "Idle keep-alive connections kept to DataWay (0: 100)."
        env("ENV_DATAWAY_MAX_IDLE_CONNS")
        pub max_idle_conns: u64 = 0,
        "How long an idle connection to DataWay is kept."
        env("ENV_DATAWAY_IDLE_TIMEOUT")
        pub idle_timeout: Dur = Dur::from_secs(90),
        "Body encoding: `v2` (protobuf, DataWay's default) or `v1` (line protocol)."
        env("ENV_DATAWAY_CONTENT_ENCODING")
        pub content_encoding: String = "v2".into(),
        "Gzip request bodies."
        env_not("ENV_DATAWAY_DISABLE_GZIP")
        pub gzip: bool = true,
        "Largest body before gzip, in bytes; bigger batches are split (at least 100 KiB under protect mode)."
        env("ENV_DATAWAY_MAX_RAW_BODY_SIZE")
        pub max_raw_body_size: u64 = 1_048_576,
        "Tag keys used to route data to sinks (with `enable_sinker`). Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_SINKER_GLOBAL_CUSTOMER_KEYS")
        pub global_customer_keys: Vec<String> = Vec::new(),
        "Send the `X-Global-Tags` header DataWay's sinker routes on. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_DATAWAY_ENABLE_SINKER")
        pub enable_sinker: bool = false,
        "Skip TLS certificate verification for DataWay (only for testing)."
        env("ENV_DATAWAY_TLS_INSECURE")
        pub tls_insecure: bool = false,
        "Drop queued bodies older than this instead of sending them."
        env("ENV_DATAWAY_DROP_EXPIRED_PACKAGE_AT")
        pub drop_expired_package_at: Dur = Dur::from_secs(12 * 3600),
        "Clock check against DataWay. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        pub ntp: DatawayNtpConfig = DatawayNtpConfig::default(),
        "Send queue on disk."
        pub wal: DatawayWalConfig = DatawayWalConfig::default(),
    }
}

config_struct! {
    "The agent's own log."
    pub struct AgentLogConfig {
        "Log file: a path (relative paths are under the workdir), or `stdout`. Empty: stdout."
        env("ENV_LOG")
        pub log: String = "log".into(),
        "HTTP API access log: a path (relative paths are under the workdir), `stdout`, or empty for none. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_GIN_LOG")
        pub gin_log: String = "gin.log".into(),
        "Log level: `error`, `warn`, `info`, `debug` or `trace`."
        env("ENV_LOG_LEVEL")
        pub level: String = "info".into(),
        "Never colour log output."
        env("ENV_DISABLE_LOG_COLOR")
        pub disable_color: bool = false,
        "Rotate the log file at this size, in MiB."
        env("ENV_LOG_ROTATE_SIZE_MB")
        pub rotate: u64 = 32,
        "Rotated files kept."
        env("ENV_LOG_ROTATE_BACKUP")
        pub rotate_backups: u64 = 5,
    }
}

config_struct! {
    "Where Pipeline scripts send their points."
    pub struct PipelineOffloadConfig {
        "Receiver type (`datakit-http`)."
        pub receiver: String = "datakit-http".into(),
        "Receiver addresses (empty: no offload)."
        env("ENV_PIPELINE_OFFLOAD_ADDRESSES")
        pub addresses: Vec<String> = Vec::new(),
    }
}

config_struct! {
    "Pipeline: log cutting and point reshaping scripts."
    pub struct PipelineConfig {
        "IP geolocation database type (`iploc` or `geolite2`). Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_IPDB")
        pub ipdb_type: String = "iploc".into(),
        "How often the console's Pipeline scripts are pulled from DataWay (at least 10s; kept under `<workdir>/pipeline_remote/`, they win over local scripts of the same name)."
        pub remote_pull_interval: Dur = Dur::from_secs(60),
        "Where the reference tables of `query_refer_table()` and `mquery_refer_table()` come from (empty: none): an `http(s)://` URL answering their JSON, or a `file:///` URL or absolute path. Loaded at start and every `refer_table_pull_interval`; a failed load keeps the tables in place."
        env("ENV_REFER_TABLE_URL")
        pub refer_table_url: String = String::new(),
        "How often the reference tables are loaded again (at least 1s)."
        env("ENV_REFER_TABLE_PULL_INTERVAL")
        pub refer_table_pull_interval: Dur = Dur::from_secs(300),
        "Keep the reference tables in SQLite. Accepted for compatibility; has no effect in this agent (tables are kept in memory; `check-config` says so when set)."
        env("ENV_REFER_TABLE_USE_SQLITE")
        pub use_sqlite: bool = false,
        "Keep the SQLite reference tables in memory. Accepted for compatibility; has no effect in this agent (tables are kept in memory; `check-config` says so when set)."
        env("ENV_REFER_TABLE_SQLITE_MEM_MODE")
        pub sqlite_mem_mode: bool = false,
        "Disable the `http_request()` function. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_PIPELINE_DISABLE_HTTP_REQUEST_FUNC")
        pub disable_http_request_func: bool = false,
        "Hosts `http_request()` may call (empty: any). Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_PIPELINE_HTTP_REQUEST_HOST_WHITELIST")
        pub http_request_host_whitelist: Vec<String> = Vec::new(),
        "Networks `http_request()` may call (the key is misspelled as in the original). Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_PIPELINE_HTTP_REQUEST_CIDR_WHITELIST")
        pub http_request_cidr_whiltelist: Vec<String> = Vec::new(),
        "Forbid `http_request()` to private and loopback addresses. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_PIPELINE_HTTP_REQUEST_DISABLE_INTERNAL_NET")
        pub http_request_disable_internal_net: bool = false,
        "How long one script run may take on one point (0s: no limit). A run past it is stopped, counted (`Too slow` in `datakit monitor`) and logged once per script; the point is kept as the script left it, as after any script error."
        env("ENV_PIPELINE_SCRIPT_TIME_LIMIT")
        pub script_time_limit: Dur = Dur::from_millis(100),
        "Default script per category, e.g. `logging = \"default.p\"`."
        pub default_pipeline: BTreeMap<String, String> = BTreeMap::new(),
        "Sending points to another agent for processing. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        pub offload: PipelineOffloadConfig = PipelineOffloadConfig::default(),
    }
}

config_struct! {
    "Leader election: among agents with the same namespace, only the leader runs cluster-wide inputs."
    pub struct ElectionConfig {
        "Take part in election."
        env("ENV_ENABLE_ELECTION")
        pub enable: bool = false,
        "Election namespace: agents compete only with agents of the same namespace."
        env("ENV_NAMESPACE")
        pub namespace: String = "default".into(),
        "Add the tag `election_namespace=<namespace>` to elected data."
        env("ENV_ENABLE_ELECTION_NAMESPACE_TAG")
        pub enable_namespace_tag: bool = false,
        "Hostnames allowed to take part (empty: all)."
        env("ENV_ELECTION_NODE_WHITELIST")
        pub node_whitelist: Vec<String> = Vec::new(),
        "Tags added to data from election-aware inputs instead of the global host tags (with election disabled, the host tags are used)."
        env("ENV_GLOBAL_ELECTION_TAGS", "ENV_GLOBAL_ENV_TAGS")
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
        "Where the election is held: `dataway` (the first `[dataway] urls` entry, the original's protocol) or `etcd` (a lease and a key per namespace, see `[election.etcd]`)."
        env("ENV_ELECTION_BACKEND")
        pub backend: String = "dataway".into(),
        "This agent's id in the election (empty: the hostname)."
        env("ENV_ELECTION_ID")
        pub id: String = String::new(),
        "How long leadership lasts without a successful renewal: the etcd lease TTL, and, with DataWay, how long the leader trusts its last successful heartbeat (keep it no longer than DataWay's own leadership timeout). The leader renews every third of it and pauses its elected inputs once a renewal fails or the lease minus a safety margin has passed without one."
        env("ENV_ELECTION_LEASE_TTL")
        pub lease_ttl: Dur = Dur::from_secs(15),
        "The etcd backend."
        pub etcd: ElectionEtcdConfig = ElectionEtcdConfig::default(),
    }
}

config_struct! {
    "The etcd backend of the election (etcd v3 API, through its JSON gateway)."
    pub struct ElectionEtcdConfig {
        "etcd client URLs, e.g. `https://10.0.0.1:2379`; tried in order."
        env("ENV_ELECTION_ETCD_ENDPOINTS")
        pub endpoints: Vec<String> = Vec::new(),
        "Key prefix: the leader holds `<prefix>/<namespace>`."
        env("ENV_ELECTION_ETCD_PREFIX")
        pub key_prefix: String = "/datakit/election".into(),
        "User name (empty: no authentication)."
        env("ENV_ELECTION_ETCD_USERNAME")
        pub username: String = String::new(),
        "Password."
        env("ENV_ELECTION_ETCD_PASSWORD")
        pub password: String = String::new(),
        "PEM file of the CA that signed the etcd server certificates (empty: the system's roots)."
        env("ENV_ELECTION_ETCD_CA_FILE")
        pub ca_file: String = String::new(),
        "PEM client certificate (chain) file, for etcd's client certificate authentication."
        env("ENV_ELECTION_ETCD_CERT_FILE")
        pub cert_file: String = String::new(),
        "PEM private key file of the client certificate."
        env("ENV_ELECTION_ETCD_KEY_FILE")
        pub key_file: String = String::new(),
        "Skip TLS certificate verification (only for testing)."
        env("ENV_ELECTION_ETCD_INSECURE_SKIP_VERIFY")
        pub insecure_skip_verify: bool = false,
        "Time limit for one request to etcd (at most a third of `lease_ttl` is used)."
        env("ENV_ELECTION_ETCD_TIMEOUT")
        pub timeout: Dur = Dur::from_secs(5),
    }
}

config_struct! {
    "How the `logging` inputs tail files: every file-tailing instance runs on one small set of threads."
    pub struct LogTailingConfig {
        "Threads that take turns at reading the files of every `logging` instance (0: one per CPU core, at least 2). A turn reads at most 250 records of one instance; a turn stuck for 2s (a hung read, a slow script) is set aside and another thread serves the other instances meanwhile."
        env("ENV_LOG_TAILING_WORKERS")
        pub workers: u64 = 0,
    }
}

config_struct! {
    "CPU and memory limits applied to the agent itself (cgroup, when running as root)."
    pub struct ResourceLimitConfig {
        "Apply the limits."
        pub enable: bool = true,
        "cgroup path."
        pub path: String = "/datakit".into(),
        "CPU limit, in cores."
        pub cpu_cores: f64 = 2.0,
        "Memory limit (memory + swap), in MiB; 0 or less disables it."
        pub mem_max_mb: i64 = 4096,
        "Do not let the kernel OOM killer pick the agent first. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        pub disable_oom: bool = false,
    }
}

config_struct! {
    "Overrides of values the agent would otherwise detect."
    #[allow(non_snake_case)]
    pub struct EnvironmentsConfig {
        "Hostname to report instead of the system's."
        env("ENV_HOSTNAME")
        pub ENV_HOSTNAME: String = String::new(),
    }
}

config_struct! {
    "Self-upgrade (`datakit upgrade`)."
    pub struct UpgradeConfig {
        "URL of the release index: JSON describing releases as `{\"version\", \"url\", \"sha256\"}` objects (one, or a list). Empty: `datakit upgrade` needs `--url`."
        env("ENV_UPGRADE_INDEX_URL")
        pub index_url: String = String::new(),
    }
}

config_struct! {
    "DataKit main configuration (`conf.d/datakit.conf`)."
    pub struct MainConfig {
        "Inputs started with their default configuration unless a file in conf.d configures them. `-name` disables one."
        env("ENV_DEFAULT_ENABLED_INPUTS", "ENV_ENABLE_INPUTS")
        pub default_enabled_inputs: Vec<String> = DEFAULT_ENABLED_INPUTS.iter().map(|s| s.to_string()).collect(),
        "Protect mode: input intervals outside an input's allowed range are raised or lowered into it."
        env_not("ENV_DISABLE_PROTECT_MODE")
        pub protect_mode: bool = true,
        "User the service runs as."
        env("ENV_DATAKIT_USER")
        pub datakit_user: String = "root".into(),
        "How long `datakit run` may take to stop: stop inputs, flush and deliver (or queue) every batch."
        env("ENV_SHUTDOWN_TIMEOUT")
        pub shutdown_timeout: Dur = Dur::from_secs(30),
        "Open-file limit set at start."
        env("ENV_ULIMIT")
        pub ulimit: u64 = 64000,
        "A name for this agent (empty: none)."
        env("ENV_NAME")
        pub name: String = String::new(),
        "Add Pipeline debug fields to points. Accepted for compatibility; has no effect in this agent (`check-config` says so when set)."
        env("ENV_ENABLE_DEBUG_FIELDS")
        pub enable_debug_fields: bool = false,
        "Tags added to every point that does not already have them. `$datakit_hostname` and `$datakit_ip` are replaced by this host's name and IP."
        env("ENV_GLOBAL_HOST_TAGS", "ENV_GLOBAL_TAGS")
        pub global_host_tags: BTreeMap<String, String> = BTreeMap::from([
            ("host".to_string(), "$datakit_hostname".to_string()),
            ("ip".to_string(), "$datakit_ip".to_string()),
        ]),
        "Overrides of detected values."
        pub environments: EnvironmentsConfig = EnvironmentsConfig::default(),
        "HTTP API."
        pub http_api: HttpApiConfig = HttpApiConfig::default(),
        "Batching."
        pub io: IoConfig = IoConfig::default(),
        "Log file tailing (the `logging` inputs)."
        pub log_tailing: LogTailingConfig = LogTailingConfig::default(),
        "DataWay."
        pub dataway: DatawayConfig = DatawayConfig::default(),
        "Other outputs."
        pub outputs: OutputsConfig = OutputsConfig::default(),
        "The agent's log."
        pub logging: AgentLogConfig = AgentLogConfig::default(),
        "Pipeline."
        pub pipeline: PipelineConfig = PipelineConfig::default(),
        "Leader election."
        pub election: ElectionConfig = ElectionConfig::default(),
        "Resource limits."
        pub resource_limit: ResourceLimitConfig = ResourceLimitConfig::default(),
        "Self-upgrade."
        pub upgrade: UpgradeConfig = UpgradeConfig::default(),
    }
}

/// The inputs `default_enabled_inputs` names by default: the host inputs, the agent's own
/// metrics and the statsd receiver, as the original enables them on a host install.
pub const DEFAULT_ENABLED_INPUTS: &[&str] = &[
    "cpu",
    "disk",
    "diskio",
    "dk",
    "host_processes",
    "hostobject",
    "mem",
    "net",
    "statsd",
    "swap",
    "system",
];

/// Keys of the original agent's datakit.conf that this agent reads without acting on them
/// (deprecated, or features it does not have), with what to do instead.
pub fn compat_key(path: &str) -> Option<&'static str> {
    Some(match path {
        "enable_pprof" | "pprof_listen" => "Go's pprof does not apply to this agent",
        "auto_update" => "use `datakit upgrade`",
        "black_lists" | "white_lists" => "unused in the original agent as well",
        "http_server_addr" | "http_listen" => "deprecated: use `[http_api] listen`",
        "interval" => "deprecated: intervals are set per input",
        "output_file" => "deprecated",
        "uuid" => "deprecated: the agent id is derived from the hostname",
        "log" | "gin_log" | "log_level" | "log_rotate" => "deprecated: use the `[logging]` section",
        "install_version" => "deprecated",
        "io_cache_count" => "deprecated: use `[io] max_cache_count`",
        "global_tags" => "deprecated: use `[global_host_tags]`",
        "global_env_tags" => "deprecated: use `[election.tags]`",
        "cgroup" => "deprecated: use `[resource_limit]`",
        "disable_404page" => "deprecated: use `[http_api] disable_404page`",
        "enable_election" | "enable_election_tag" | "election_namespace" | "namespace" => {
            "deprecated: use the `[election]` section"
        }
        "io.global_blocking" | "io.max_dynamic_cache_count" => "deprecated in the original agent",
        "dataway.enable_httptrace" => "Go HTTP tracing does not apply to this agent",
        "dataway.wal.workers" => {
            "senders are one pool for every category: use `[io] flush_workers`"
        }
        "dataway.wal.no_pos" => "the disk queue always keeps its read position",
        "dataway.max_idle_conns_per_host" => "connections are pooled per DataWay URL",
        "dataway.host" | "dataway.scheme" | "dataway.token" | "dataway.url" => {
            "deprecated: use `[dataway] urls` and `timeout_v2`"
        }
        "pipeline.ipdb_attr" | "pipeline.disable_append_run_info" => {
            "deprecated in the original agent"
        }
        "resource_limit.cpu_max" => "deprecated: use `cpu_cores`",
        "point_pool" | "dca" | "dk_upgrader" | "recorder" | "git_repos" | "crypto"
        | "remote_job" | "confds" | "apm_inject" | "tracer" | "operator" => {
            "this section configures a feature of the original agent that this agent does not have"
        }
        _ => {
            let top = path.split(['.', '[']).next().unwrap_or(path);
            if top != path {
                return compat_key(top);
            }
            return None;
        }
    })
}
