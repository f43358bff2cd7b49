//! Who is asking: the authenticated [`Caller`] of a request and what their level allows. The
//! extractor that builds one from a bearer token is in [`crate::auth`].

use crate::error::ApiError;
use callrec_store::Scope;
use callrec_types::directory::{Level, User};
use callrec_types::UserId;

/// The authenticated user of a request, with the calls they may see.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub scope: Scope,
    pub token_hash: String,
}

impl Caller {
    pub fn id(&self) -> UserId {
        self.user.id
    }
    pub fn require(&self, level: Level) -> Result<(), ApiError> {
        if self.user.level >= level {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this needs the {} level", level.as_str())))
        }
    }
    pub fn is_admin(&self) -> bool {
        self.user.level == Level::Admin
    }
}
