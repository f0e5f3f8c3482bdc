//! The `memory` plugin: `wasi:keyvalue/store@0.2.0-draft`, with `atomics` and `batch`, in
//! the host's memory, each label its own data. The data belongs to the plugin, not to a store: every store (request) of
//! one process that reaches a label sees the same data, so a cache outlives a request.
//! The host's default plugin for the three interfaces. No keys. Each operation holds the
//! label's lock for its whole run, so an `increment` or a batch is atomic.

use super::framework::{BackendPlugin, HostView, Unavailable};
use super::keyvalue::{self, Entry, Error, KeyResponse, KeyValue, PAGE_SIZE, Served};
use compose_resolver::{BackendConfig, ConfigIssue, PlannedBackend, PluginSchema};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use wasmtime::component::LinkerInstance;

/// The `memory` plugin: one [`MemoryStore`] per label, created empty on first use.
#[derive(Default)]
pub struct MemoryPlugin {
    labels: Mutex<HashMap<String, Arc<MemoryStore>>>,
}

impl MemoryPlugin {
    /// The plugin's name.
    pub const NAME: &'static str = "memory";

    /// A plugin with no data yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The data of `label` (created empty if no backend of that label was defined yet):
    /// for a host to seed or read it.
    pub fn store(&self, label: &str) -> Arc<MemoryStore> {
        let mut labels = self.labels.lock().unwrap_or_else(|e| e.into_inner());
        labels.entry(label.to_owned()).or_default().clone()
    }
}

impl PluginSchema for MemoryPlugin {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn interfaces(&self) -> Vec<String> {
        keyvalue::interfaces()
    }

    fn keys(&self) -> Vec<String> {
        Vec::new()
    }

    fn validate(&self, _config: &BackendConfig) -> Vec<ConfigIssue> {
        Vec::new()
    }
}

impl<T: HostView> BackendPlugin<T> for MemoryPlugin {
    fn define(
        &self,
        backend: &PlannedBackend,
        instance: &mut LinkerInstance<'_, T>,
    ) -> Result<(), Unavailable> {
        let served = Served::new(Self::NAME, &backend.label);
        super::keyvalue::define(instance, self.store(&backend.label), served)
            .map_err(Unavailable::defining)
    }
}

/// One label's data: buckets by identifier, entries by key (both in key order).
#[derive(Default)]
pub struct MemoryStore {
    buckets: RwLock<BTreeMap<String, BTreeMap<String, Vec<u8>>>>,
}

impl MemoryStore {
    fn read<R>(&self, bucket: &str, f: impl FnOnce(Option<&BTreeMap<String, Vec<u8>>>) -> R) -> R {
        let buckets = self.buckets.read().unwrap_or_else(|e| e.into_inner());
        f(buckets.get(bucket))
    }

    fn write<R>(&self, bucket: &str, f: impl FnOnce(&mut BTreeMap<String, Vec<u8>>) -> R) -> R {
        let mut buckets = self.buckets.write().unwrap_or_else(|e| e.into_inner());
        f(buckets.entry(bucket.to_owned()).or_default())
    }
}

impl KeyValue for MemoryStore {
    fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.read(bucket, |entries| entries.and_then(|e| e.get(key).cloned())))
    }

    fn set(&self, bucket: &str, key: &str, value: &[u8]) -> Result<(), Error> {
        self.write(bucket, |entries| {
            entries.insert(key.to_owned(), value.to_vec())
        });
        Ok(())
    }

    fn delete(&self, bucket: &str, key: &str) -> Result<(), Error> {
        self.write(bucket, |entries| entries.remove(key));
        Ok(())
    }

    fn exists(&self, bucket: &str, key: &str) -> Result<bool, Error> {
        Ok(self.read(bucket, |entries| {
            entries.is_some_and(|e| e.contains_key(key))
        }))
    }

    fn list_keys(&self, bucket: &str, cursor: Option<u64>) -> Result<KeyResponse, Error> {
        let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        Ok(self.read(bucket, |entries| {
            let total = entries.map_or(0, BTreeMap::len);
            let keys: Vec<String> = entries
                .into_iter()
                .flat_map(|e| e.keys().skip(start).take(PAGE_SIZE).cloned())
                .collect();
            let next = start.saturating_add(keys.len());
            KeyResponse {
                cursor: (next < total).then_some(next as u64),
                keys,
            }
        }))
    }

    fn increment(&self, bucket: &str, key: &str, delta: u64) -> Result<u64, Error> {
        self.write(bucket, |entries| {
            let current = match entries.get(key) {
                None => 0,
                Some(value) => {
                    keyvalue::counter_value(value).ok_or_else(|| keyvalue::not_a_counter(key))?
                }
            };
            let sum = current
                .checked_add(delta)
                .ok_or_else(|| keyvalue::not_a_counter(key))?;
            entries.insert(key.to_owned(), sum.to_string().into_bytes());
            Ok(sum)
        })
    }

    fn get_many(&self, bucket: &str, keys: &[String]) -> Result<Vec<Entry>, Error> {
        Ok(self.read(bucket, |entries| {
            keys.iter()
                .map(|key| {
                    let value = entries.and_then(|e| e.get(key))?;
                    Some((key.clone(), value.clone()))
                })
                .collect()
        }))
    }

    fn set_many(&self, bucket: &str, new: &[(String, Vec<u8>)]) -> Result<(), Error> {
        self.write(bucket, |entries| {
            for (key, value) in new {
                entries.insert(key.clone(), value.clone());
            }
        });
        Ok(())
    }

    fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), Error> {
        self.write(bucket, |entries| {
            for key in keys {
                entries.remove(key);
            }
        });
        Ok(())
    }
}
