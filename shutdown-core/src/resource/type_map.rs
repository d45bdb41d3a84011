//! The type map of built resources.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use super::Res;
use crate::error::GetError;
use crate::sync::{read, write};

pub(crate) type AnyArc = Arc<dyn Any + Send + Sync>;

/// Hashes a [`TypeId`], which is already a hash of the type: its bits are used as they are,
/// instead of being hashed again with SipHash (a third of the cost of a lookup).
#[derive(Default)]
struct TypeIdHasher(u64);

impl Hasher for TypeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `TypeId` writes one integer; should that change, fold whatever it writes (FNV-1a).
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }

    fn write_u128(&mut self, n: u128) {
        self.0 ^= (n as u64) ^ ((n >> 64) as u64);
    }
}

type ByType = HashMap<TypeId, Entry, BuildHasherDefault<TypeIdHasher>>;

#[derive(Default)]
struct Entry {
    name: String,
    type_name: &'static str,
    priority: i32,
    value: Option<AnyArc>,
    closed: bool,
}

/// Where one resource is in its life, as listed by [`Resources::list`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ResourceState {
    /// Declared, not built yet.
    Pending,
    /// Built and available.
    Ready,
    /// Its close started (or finished); no longer available.
    Closed,
}

/// One resource of an engine, for status endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ResourceInfo {
    /// Its name.
    pub name: String,
    /// The Rust type.
    pub type_name: &'static str,
    /// Its priority (higher builds first and closes last).
    pub priority: i32,
    /// Where it is in its life.
    pub state: ResourceState,
}

/// The resources an engine built, by type. Cheap to clone.
#[derive(Clone, Default)]
pub struct Resources {
    inner: Arc<RwLock<ByType>>,
}

impl Resources {
    /// A handle to the resource of type `T`.
    ///
    /// Errors name the type and say why it is missing: never registered (with the
    /// `inventory` linking rule), not built yet, or already closed.
    pub fn get<T: Send + Sync + 'static>(&self) -> Result<Res<T>, GetError> {
        let type_name = std::any::type_name::<T>();
        let map = read(&self.inner);
        let Some(entry) = map.get(&TypeId::of::<T>()) else {
            return Err(GetError::NotRegistered {
                type_name,
                registered: map.len(),
            });
        };
        match &entry.value {
            Some(v) => match v.clone().downcast::<T>() {
                Ok(arc) => Ok(Res(arc)),
                Err(_) => Err(GetError::NotAvailable {
                    name: entry.name.clone(),
                    type_name,
                    state: "of another type",
                }),
            },
            None => Err(GetError::NotAvailable {
                name: entry.name.clone(),
                type_name,
                state: if entry.closed {
                    "closed"
                } else {
                    "not built yet"
                },
            }),
        }
    }

    /// How many resources are registered.
    pub fn len(&self) -> usize {
        read(&self.inner).len()
    }

    /// `true` when no resource is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every declared resource, in descending priority (build order), then by name.
    pub fn list(&self) -> Vec<ResourceInfo> {
        let map = read(&self.inner);
        let mut out: Vec<ResourceInfo> = map
            .values()
            .map(|e| ResourceInfo {
                name: e.name.clone(),
                type_name: e.type_name,
                priority: e.priority,
                state: match (&e.value, e.closed) {
                    (_, true) => ResourceState::Closed,
                    (Some(_), false) => ResourceState::Ready,
                    (None, false) => ResourceState::Pending,
                },
            })
            .collect();
        out.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then_with(|| a.name.cmp(&b.name))
        });
        out
    }

    /// The name of the resource of this type, if one is registered (built, pending or closed).
    pub(crate) fn name_of(&self, type_id: TypeId) -> Option<String> {
        read(&self.inner).get(&type_id).map(|e| e.name.clone())
    }

    pub(crate) fn declare(
        &self,
        type_id: TypeId,
        name: &str,
        type_name: &'static str,
        priority: i32,
    ) {
        let mut map = write(&self.inner);
        map.entry(type_id).or_insert_with(|| Entry {
            name: name.to_string(),
            type_name,
            priority,
            ..Entry::default()
        });
    }

    pub(crate) fn insert(&self, type_id: TypeId, value: AnyArc) {
        let mut map = write(&self.inner);
        if let Some(e) = map.get_mut(&type_id) {
            e.value = Some(value);
        }
    }

    /// [`take`](Resources::take) for several resources under one lock (the values are
    /// returned, so that they are dropped, if at all, after it is released).
    pub(crate) fn take_all(&self, type_ids: impl ExactSizeIterator<Item = TypeId>) -> Vec<AnyArc> {
        let mut taken = Vec::with_capacity(type_ids.len());
        let mut map = write(&self.inner);
        for id in type_ids {
            if let Some(e) = map.get_mut(&id) {
                e.closed = true;
                taken.extend(e.value.take());
            }
        }
        taken
    }

    /// Removes the engine's handle so that a by-value close can take the value.
    pub(crate) fn take(&self, type_id: TypeId) -> Option<AnyArc> {
        let mut map = write(&self.inner);
        map.get_mut(&type_id).and_then(|e| {
            e.closed = true;
            e.value.take()
        })
    }
}

impl std::fmt::Debug for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let map = read(&self.inner);
        f.debug_list()
            .entries(map.values().map(|e| &e.name))
            .finish()
    }
}
