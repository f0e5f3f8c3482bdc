//! The `postgres` plugin: `wasi:keyvalue/store@0.2.0-draft`, with `atomics` and `batch`, on
//! PostgreSQL. Each label
//! connects as its own database role, from the connection string in its own environment
//! variable (`url-env`; secrets never go in the workload file), and keeps its rows in one
//! table:
//!
//! ```sql
//! CREATE TABLE keyvalue (bucket text, key text, value bytea, PRIMARY KEY (bucket, key));
//! ```
//!
//! A bucket is the rows with its identifier in `bucket`. Every statement is prepared once
//! per connection and takes its values as bind parameters. A database error reaches the
//! guest as the interface's `error` (`access-denied` for a missing privilege, `other`
//! with the database's message otherwise), never as a trap; a broken connection is
//! reopened by the next call. A label keeps a pool of up to `pool-size` connections
//! ([`DEFAULT_POOL_SIZE`] by default), opened as concurrent calls need them.
//!
//! `increment` is one statement (an upsert that adds to the stored decimal text and
//! returns the sum), `set-many` and `delete-many` run in a transaction, `get-many` is one
//! query: each is atomic against concurrent calls.
//!
//! Keys: `url-env` (required), `table` (optional, default `keyvalue`: the role's
//! `search_path` finds it, so each role's own schema can hold its own table),
//! `create-table` (optional, default `true`: a missing table is created, when the role
//! may), `pool-size` (optional, 1 to [`MAX_POOL_SIZE`]). TLS comes from the connection string (`sslmode`, `sslrootcert`: see
//! [`super::postgres_tls`]).

use super::framework::{BackendPlugin, HostView, Unavailable};
use super::keys::KeyType;
use super::keys::{self, KeyRule};
use super::keyvalue::{self, Entry, Error, KeyResponse, KeyValue, PAGE_SIZE, Served};
use super::postgres_tls;
use compose_resolver::{BackendConfig, ConfigIssue, PlannedBackend, PluginSchema};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::env::VarError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;
use wasmtime::component::LinkerInstance;

/// The `postgres` plugin. Each label's connections live in the linker's definitions of
/// that label; the plugin only knows where to look up the variables `url-env` names.
#[derive(Clone, Default)]
pub struct PostgresPlugin {
    variables: Variables,
}

/// Where the variables that `url-env` names are looked up.
#[derive(Clone, Default)]
enum Variables {
    /// The process's environment.
    #[default]
    Process,
    /// A given set (a host's secret store, a test).
    Given(Arc<HashMap<String, String>>),
}

impl Variables {
    fn get(&self, name: &str) -> Result<String, VarError> {
        match self {
            Self::Process => std::env::var(name),
            Self::Given(map) => map.get(name).cloned().ok_or(VarError::NotPresent),
        }
    }
}

/// The keys of a `postgres` backend.
const KEYS: &[KeyRule] = &[
    KeyRule {
        key: "url-env",
        required: true,
        ty: KeyType::String(keys::env_var_name),
        help: "the name of an environment variable holding the connection string, \
               e.g. `url-env = \"TEAM_A_DATABASE_URL\"`",
    },
    KeyRule {
        key: "table",
        required: false,
        ty: KeyType::String(table_name),
        help: "a table (`keyvalue`) or a schema-qualified table (`team_a.keyvalue`): \
               lowercase letters, digits and `_`",
    },
    KeyRule {
        key: "pool-size",
        required: false,
        ty: KeyType::Integer {
            min: 1,
            max: MAX_POOL_SIZE as i64,
        },
        help: "how many connections the label may open at once, from 1 to 64 \
               (default 4): each is one of the role's PostgreSQL connections",
    },
    KeyRule {
        key: "create-table",
        required: false,
        ty: KeyType::Boolean,
        help: "`true` (the default): create the table when it is missing and the role may; \
               `false`: a missing table is an error",
    },
];

/// The table's layout, as the plugin creates it (`create-table`) and as docs/host.md
/// shows it; `{table}` is the quoted name.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS {table} (bucket text NOT NULL, \
     key text NOT NULL, value bytea NOT NULL, PRIMARY KEY (bucket, key))";

/// The table when `table` is not given.
const DEFAULT_TABLE: &str = "keyvalue";

/// How long connecting may take before the backend counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl PostgresPlugin {
    /// The plugin's name.
    pub const NAME: &'static str = "postgres";

    /// A plugin that looks `url-env` up in the process's environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A plugin that looks `url-env` up in `variables` only (for hosts that keep secrets
    /// elsewhere than in their environment, and for tests).
    pub fn with_variables(
        variables: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        let map = variables
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            variables: Variables::Given(Arc::new(map)),
        }
    }

    /// Opens `backend`'s connection and proves that its role may read and write its table.
    ///
    /// # Errors
    /// The variable is missing, the server refuses or cannot be reached, the login fails,
    /// or the role lacks a privilege on the table.
    pub fn connect(&self, backend: &PlannedBackend) -> Result<PostgresStore, Unavailable> {
        let settings = Settings::from_backend(backend, self.variables.clone())?;
        let connection = outside_runtime(|| settings.open())?;
        let mut pool: Vec<Mutex<Option<Connection>>> =
            (0..settings.pool_size).map(|_| Mutex::new(None)).collect();
        pool[0] = Mutex::new(Some(connection));
        Ok(PostgresStore {
            settings,
            pool,
            next: AtomicUsize::new(0),
        })
    }
}

impl PluginSchema for PostgresPlugin {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn interfaces(&self) -> Vec<String> {
        keyvalue::interfaces()
    }

    fn keys(&self) -> Vec<String> {
        KEYS.iter().map(|k| k.key.to_owned()).collect()
    }

    fn validate(&self, config: &BackendConfig) -> Vec<ConfigIssue> {
        keys::validate_keys(config, KEYS, Self::NAME)
    }
}

impl<T: HostView> BackendPlugin<T> for PostgresPlugin {
    fn check(&self, backend: &PlannedBackend) -> Result<(), Unavailable> {
        self.connect(backend).map(drop)
    }

    fn define(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        let store = Arc::new(self.connect(backend)?);
        let served = Served::new(Self::NAME, &backend.label);
        super::keyvalue::define(instance, store, served).map_err(Unavailable::defining)
    }

    /// Each query on tokio's blocking pool, so that a request waiting for the database
    /// does not hold a worker thread.
    fn define_async(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        let store = Arc::new(self.connect(backend)?);
        let served = Served::new(Self::NAME, &backend.label);
        super::keyvalue::define_blocking(instance, store, served).map_err(Unavailable::defining)
    }
}

/// `table`'s rule: one or two lowercase SQL identifiers. A table's name cannot be a bind
/// parameter, so it is written into the statements' text: only names this strict
/// pattern accepts get there, each quoted.
fn table_name(value: &str) -> Result<(), String> {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        part.len() <= 63
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() <= 2 && parts.iter().all(|p| identifier(p)) {
        Ok(())
    } else {
        Err(format!("`{value}` is not a table name"))
    }
}

/// A backend's settings: where its connection string is, and its table.
struct Settings {
    label: String,
    variables: Variables,
    url_env: String,
    /// The table, quoted for SQL (`"team_a"."keyvalue"`).
    table: String,
    /// Whether a missing table is created (`create-table`).
    create_table: bool,
    /// How many connections the pool may hold (`pool-size`), at least one.
    pool_size: usize,
}

impl Settings {
    fn from_backend(backend: &PlannedBackend, variables: Variables) -> Result<Self, Unavailable> {
        if let Some(issue) = keys::validate_keys(&backend.config, KEYS, PostgresPlugin::NAME)
            .into_iter()
            .next()
        {
            return Err(Unavailable {
                cause: issue.message,
                help: issue.help,
            });
        }
        let url_env = backend
            .config
            .get_str("url-env")
            .unwrap_or_default()
            .to_owned();
        let table = backend.config.get_str("table").unwrap_or(DEFAULT_TABLE);
        let table = table
            .split('.')
            .map(|part| format!("\"{part}\""))
            .collect::<Vec<_>>()
            .join(".");
        let create_table = backend
            .config
            .get("create-table")
            .and_then(toml::Value::as_bool)
            .unwrap_or(true);
        // Validated above: 1 to MAX_POOL_SIZE.
        let pool_size = (backend.config.get("pool-size"))
            .and_then(toml::Value::as_integer)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(DEFAULT_POOL_SIZE)
            .clamp(1, MAX_POOL_SIZE);
        Ok(Self {
            label: backend.label.clone(),
            variables,
            url_env,
            table,
            create_table,
            pool_size,
        })
    }

    /// Connects (with TLS when the string asks for it), creates the table when it is
    /// missing and `create-table` allows, prepares the statements and proves the role's
    /// privileges.
    fn open(&self) -> Result<Connection, Unavailable> {
        let url = self.variables.get(&self.url_env).map_err(|e| {
            Unavailable::new(match e {
                VarError::NotPresent => {
                    format!("environment variable `{}` is not set", self.url_env)
                }
                VarError::NotUnicode(_) => {
                    format!("environment variable `{}` is not valid UTF-8", self.url_env)
                }
            })
            .help(format!(
                "set `{}` to the connection string of the role that serves `{}` \
                 (postgresql://ROLE:PASSWORD@HOST:PORT/DATABASE; scripts/postgres.sh starts \
                 a database and prints one)",
                self.url_env, self.label
            ))
        })?;
        let invalid = |why: String| {
            Unavailable::new(format!(
                "`{}` does not hold a PostgreSQL connection string: {why}",
                self.url_env
            ))
        };
        let (url, tls) = postgres_tls::split(&url).map_err(invalid)?;
        let mut config: postgres::Config = url.parse().map_err(|e| invalid(format!("{e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let connector = postgres_tls::connector(&tls).map_err(|why| {
            Unavailable::new(format!("cannot connect with `{}`: {why}", self.url_env))
        })?;
        let connected = match connector {
            Some(connector) => {
                config.ssl_mode(postgres::config::SslMode::Require);
                config.connect(connector)
            }
            None => {
                config.ssl_mode(postgres::config::SslMode::Disable);
                config.connect(NoTls)
            }
        };
        let mut client = connected.map_err(|e| {
            let cause = describe(&e);
            let certificate = cause.contains("certificate");
            let why = Unavailable::new(format!("cannot connect with `{}`: {cause}", self.url_env));
            if certificate {
                why.help(
                    "the server's certificate must be signed by a root of `sslrootcert=` (the \
                     system's roots without it) and, with `sslmode=verify-full`, be issued for \
                     the host of the connection string",
                )
            } else {
                why
            }
        })?;
        let statements = match Statements::prepare(&mut client, &self.table) {
            Err(e) if self.create_table && e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                self.create(&mut client, &e)?;
                Statements::prepare(&mut client, &self.table)
            }
            prepared => prepared,
        }
        .map_err(|e| self.unusable(&e))?;
        probe(&mut client, &statements).map_err(|e| self.unusable(&e))?;
        Ok(Connection { client, statements })
    }

    /// Creates the missing table (`missing`: why preparing failed). A role that may not
    /// (no CREATE on the schema) gets the diagnostic of a missing table, as with
    /// `create-table = false`, with the reason it could not create it.
    fn create(&self, client: &mut Client, missing: &postgres::Error) -> Result<(), Unavailable> {
        let sql = CREATE_TABLE.replace("{table}", &self.table);
        match client.batch_execute(&sql) {
            Ok(()) => Ok(()),
            // Another connection created it at the same time: it is there now.
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(()),
            Err(e) => {
                let mut why = self.unusable(missing);
                if let Some(help) = &mut why.help {
                    help.push_str(&format!(
                        " (the role could not create it: {})",
                        describe(&e)
                    ));
                }
                Err(why)
            }
        }
    }

    fn unusable(&self, error: &postgres::Error) -> Unavailable {
        let why = Unavailable::new(format!(
            "the role of `{}` cannot use table {}: {}",
            self.url_env,
            self.table,
            describe(error)
        ));
        match error.code() {
            Some(&SqlState::INSUFFICIENT_PRIVILEGE) => why.help(format!(
                "grant the role USAGE on the table's schema and SELECT, INSERT, UPDATE, DELETE \
                 on {}",
                self.table
            )),
            Some(&SqlState::UNDEFINED_TABLE) => why.help(
                "create it: CREATE TABLE keyvalue (bucket text, key text, value bytea, \
                 PRIMARY KEY (bucket, key)), or name another with `table = \"...\"`",
            ),
            _ => why,
        }
    }
}

/// The statements of one connection, prepared once.
struct Statements {
    get: Statement,
    set: Statement,
    delete: Statement,
    exists: Statement,
    list: Statement,
    increment: Statement,
    get_many: Statement,
    delete_many: Statement,
}

impl Statements {
    fn prepare(client: &mut Client, table: &str) -> Result<Self, postgres::Error> {
        Ok(Self {
            get: client.prepare(&format!(
                "SELECT value FROM {table} WHERE bucket = $1 AND key = $2"
            ))?,
            set: client.prepare(&format!(
                "INSERT INTO {table} (bucket, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value"
            ))?,
            delete: client.prepare(&format!(
                "DELETE FROM {table} WHERE bucket = $1 AND key = $2"
            ))?,
            exists: client.prepare(&format!(
                "SELECT EXISTS (SELECT 1 FROM {table} WHERE bucket = $1 AND key = $2)"
            ))?,
            list: client.prepare(&format!(
                "SELECT key FROM {table} WHERE bucket = $1 ORDER BY key COLLATE \"C\" \
                 LIMIT $2 OFFSET $3"
            ))?,
            // One statement, so atomic: the row's lock orders concurrent increments. The
            // counter is decimal text; a value that is not one (`encode(…, 'escape')`
            // writes any other byte as a non-digit), or a sum past u64::MAX, updates
            // nothing and returns no row. PostgreSQL checks the WHERE on the existing row
            // before it computes the SET, so a non-number is never cast.
            increment: client.prepare(&format!(
                "INSERT INTO {table} AS t (bucket, key, value) \
                 VALUES ($1, $2, convert_to($3::text, 'UTF8')) \
                 ON CONFLICT (bucket, key) DO UPDATE \
                 SET value = convert_to((encode(t.value, 'escape')::numeric \
                                         + $3::text::numeric)::text, 'UTF8') \
                 WHERE CASE WHEN encode(t.value, 'escape') ~ '^[0-9]{{1,20}}$' \
                       THEN encode(t.value, 'escape')::numeric + $3::text::numeric \
                            <= 18446744073709551615 \
                       ELSE false END \
                 RETURNING encode(value, 'escape')"
            ))?,
            get_many: client.prepare(&format!(
                "SELECT key, value FROM {table} WHERE bucket = $1 AND key = ANY($2)"
            ))?,
            delete_many: client.prepare(&format!(
                "DELETE FROM {table} WHERE bucket = $1 AND key = ANY($2)"
            ))?,
        })
    }
}

/// Reads, writes and deletes a row in a transaction that is rolled back: proves that the
/// role holds every privilege the interface needs, and leaves nothing behind.
fn probe(client: &mut Client, statements: &Statements) -> Result<(), postgres::Error> {
    let (bucket, key) = ("compose check", "probe");
    let mut transaction = client.transaction()?;
    transaction.query_opt(&statements.get, &[&bucket, &key])?;
    transaction.execute(&statements.set, &[&bucket, &key, &b"".as_slice()])?;
    transaction.execute(&statements.delete, &[&bucket, &key])?;
    transaction.rollback()
}

/// A database error's own message (`password authentication failed for user "team_a"`),
/// or the client's with its cause (`error connecting to server: Connection refused`).
fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.message().to_owned();
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

/// Runs `f` where the `postgres` client can run. The client drives a tokio runtime of its
/// own (`block_on`), which tokio refuses to start on a thread that is driving another (it
/// panics): a call from inside a runtime — a WASI 0.3 workload's store runs in one — runs
/// on a scoped thread of its own; any other call runs here. (`tokio-postgres` would need
/// async host functions, which a synchronous `wasi:keyvalue` call cannot await.)
fn outside_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// An open connection and its statements.
struct Connection {
    client: Client,
    statements: Statements,
}

/// How many connections one label opens at most when its `pool-size` is not given:
/// concurrent calls (requests) of one label run on up to this many connections at once;
/// more wait for one of them.
pub const DEFAULT_POOL_SIZE: usize = 4;

/// The greatest `pool-size`: PostgreSQL's default `max_connections` is 100, for every role.
pub const MAX_POOL_SIZE: usize = 64;

/// One label's key-value data in PostgreSQL: a small pool of connections as the label's
/// role (`pool-size`, [`DEFAULT_POOL_SIZE`]), the first opened by [`PostgresPlugin::connect`], the others when
/// calls overlap.
pub struct PostgresStore {
    settings: Settings,
    /// The connections; `None` before one is needed, or after it broke and could not be
    /// reopened yet. A call takes the first free slot, so few connections serve a light
    /// load.
    pool: Vec<Mutex<Option<Connection>>>,
    /// The slot to wait for when every slot is busy (round robin).
    next: AtomicUsize,
}

impl PostgresStore {
    /// The first free slot of the pool, else (every slot busy) the next one in turn,
    /// once it is free.
    fn slot(&self) -> MutexGuard<'_, Option<Connection>> {
        for slot in &self.pool {
            match slot.try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len();
        self.pool[turn].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a connection of the pool, opening or reopening it first if needed;
    /// off any tokio runtime (see [`outside_runtime`]).
    fn with<R: Send>(
        &self,
        f: impl FnOnce(&mut Client, &Statements) -> Result<R, postgres::Error> + Send,
    ) -> Result<R, Error> {
        outside_runtime(|| self.with_here(f))
    }

    /// [`PostgresStore::with`] on this thread.
    fn with_here<R>(
        &self,
        f: impl FnOnce(&mut Client, &Statements) -> Result<R, postgres::Error>,
    ) -> Result<R, Error> {
        let mut slot = self.slot();
        if slot.as_ref().is_none_or(|c| c.client.is_closed()) {
            *slot = None;
            let connection = self
                .settings
                .open()
                .map_err(|why| Error::Other(why.cause))?;
            *slot = Some(connection);
        }
        let Some(connection) = slot.as_mut() else {
            return Err(Error::Other("no connection".into()));
        };
        f(&mut connection.client, &connection.statements).map_err(|e| match e.code() {
            Some(&SqlState::INSUFFICIENT_PRIVILEGE) => Error::AccessDenied,
            _ => Error::Other(describe(&e)),
        })
    }
}

/// Closing the client blocks on its runtime too: off any tokio runtime as well.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        let connections: Vec<Connection> = self
            .pool
            .iter_mut()
            .filter_map(|slot| slot.get_mut().unwrap_or_else(|e| e.into_inner()).take())
            .collect();
        if !connections.is_empty() {
            outside_runtime(move || drop(connections));
        }
    }
}

impl KeyValue for PostgresStore {
    fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.with(|client, statements| {
            let row = client.query_opt(&statements.get, &[&bucket, &key])?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn set(&self, bucket: &str, key: &str, value: &[u8]) -> Result<(), Error> {
        self.with(|client, statements| {
            client.execute(&statements.set, &[&bucket, &key, &value])?;
            Ok(())
        })
    }

    fn delete(&self, bucket: &str, key: &str) -> Result<(), Error> {
        self.with(|client, statements| {
            client.execute(&statements.delete, &[&bucket, &key])?;
            Ok(())
        })
    }

    fn exists(&self, bucket: &str, key: &str) -> Result<bool, Error> {
        self.with(|client, statements| {
            Ok(client
                .query_one(&statements.exists, &[&bucket, &key])?
                .get(0))
        })
    }

    fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyResponse, Error> {
        let offset = i64::try_from(cursor.unwrap_or(0)).unwrap_or(i64::MAX);
        // One more than a page: whether there is a next page.
        let limit = PAGE_SIZE as i64 + 1;
        self.with(|client, statements| {
            let rows = client.query(&statements.list, &[&bucket, &limit, &offset])?;
            let mut keys: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
            let more = keys.len() > PAGE_SIZE;
            keys.truncate(PAGE_SIZE);
            Ok(KeyResponse {
                cursor: more.then(|| offset as u64 + PAGE_SIZE as u64),
                keys,
            })
        })
    }

    fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, Error> {
        let delta_text = delta.to_string();
        let sum = self.with(|client, statements| {
            let row = client.query_opt(&statements.increment, &[&bucket, &key, &delta_text])?;
            Ok(row.map(|row| row.get::<_, String>(0)))
        })?;
        sum.as_deref()
            .and_then(|text| keyvalue::counter_value(text.as_bytes()))
            .ok_or_else(|| keyvalue::not_a_counter(key))
    }

    fn get_many(&self, bucket: &str, keys: &[String]) -> Result<Vec<Entry>, Error> {
        let rows =
            self.with(|client, statements| client.query(&statements.get_many, &[&bucket, &keys]))?;
        let found: HashMap<String, Vec<u8>> =
            rows.iter().map(|row| (row.get(0), row.get(1))).collect();
        Ok(keys
            .iter()
            .map(|key| found.get(key).map(|value| (key.clone(), value.clone())))
            .collect())
    }

    fn set_many(&self, bucket: &str, entries: &[(String, Vec<u8>)]) -> Result<(), Error> {
        self.with(|client, statements| {
            let mut transaction = client.transaction()?;
            for (key, value) in entries {
                transaction.execute(&statements.set, &[&bucket, key, value])?;
            }
            transaction.commit()
        })
    }

    fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), Error> {
        self.with(|client, statements| {
            client.execute(&statements.delete_many, &[&bucket, &keys])?;
            Ok(())
        })
    }
}
