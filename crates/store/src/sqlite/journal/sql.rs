//! A statement being built ([`Sql`]: text and arguments in step) and the journal key that
//! orders calls newest first (migrations 0003, 0004).

use crate::{Result, StoreError};
use sqlx::sqlite::SqliteArguments;
use sqlx::Arguments;

/// Bits of a journal key below the start time (migrations 0003, 0004): the rank of a call
/// among those that started in the same millisecond.
pub(super) const KEY_RANK_BITS: u32 = 21;

/// The key of the first call of a millisecond: `~(ms << 21)`. Keys are inverted (0004), so
/// the calls of this millisecond and every later one have keys `<=` this, and the calls of
/// earlier milliseconds `>` it. Saturates far outside any real call's time, where a bound
/// still includes or excludes everything as it should.
pub(super) fn first_key(ms: i64) -> i64 {
    !ms.saturating_mul(1 << KEY_RANK_BITS)
}

/// A statement being built: SQL text and its arguments, in step.
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) args: SqliteArguments<'static>,
}

impl Sql {
    pub(super) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: SqliteArguments::default(),
        }
    }

    pub(super) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    pub(super) fn bind<T>(&mut self, value: T) -> Result<&mut Sql>
    where
        T: sqlx::Encode<'static, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + 'static,
    {
        self.args.add(value).map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(self)
    }

    /// ` IN (?, ?, …)` over `ids`.
    pub(super) fn bind_in(&mut self, ids: &[i64]) -> Result<&mut Sql> {
        self.push(" IN (");
        for (n, id) in ids.iter().enumerate() {
            self.push(if n == 0 { "?" } else { ", ?" });
            self.bind(*id)?;
        }
        self.push(")");
        Ok(self)
    }
}
