//! `ApiError`: every failure of a route as `{code, message}` with an HTTP status. Internal
//! errors are logged with their cause and answered with a generic message: nothing of the
//! server's insides reaches the wire.

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use callrec_store::StoreError;
use callrec_types::engine::Refusal;
use callrec_types::engine::TraceLine;
use callrec_types::pause::PauseConflict;
use callrec_types::rules::FieldError;
use callrec_types::wire::{ErrorBody, ErrorCode};
use callrec_types::DispatchId;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
                fields: None,
                trace: None,
            },
        }
    }
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 422: the request is well-formed but what it says cannot be used.
    pub fn unprocessable(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("{what} not found"))
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, message);
        e.body.fields = Some(fields);
        e
    }
    pub fn with_trace(mut self, trace: Vec<TraceLine>) -> Self {
        self.body.trace = Some(trace);
        self
    }
    /// Logs the cause and answers 500 without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the server failed; the error is in its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("the item was"),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, m),
            StoreError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid, m),
            other => ApiError::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::TooLarge
        } else {
            ErrorCode::MalformedJson
        };
        ApiError::new(
            if status.is_client_error() {
                status
            } else {
                StatusCode::BAD_REQUEST
            },
            code,
            r.body_text(),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(ErrorCode::BadQuery, r.body_text())
    }
}

impl From<MultipartRejection> for ApiError {
    /// A body that is not `multipart/form-data` with a boundary (#13.8).
    fn from(r: MultipartRejection) -> Self {
        ApiError::bad_request(
            ErrorCode::MalformedUpload,
            format!(
                "the upload must be multipart/form-data with a boundary: {}",
                r.body_text()
            ),
        )
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

// The errors of the server's parts, and how each is answered: kept here, beside `ApiError`,
// so that this module is a leaf the parts can use without importing each other.

#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("recording not found")]
    NotFound,
    #[error("the recording is on legal hold; release the hold first")]
    LegalHold,
    #[error("the recording is still being written")]
    InProgress,
    #[error("cannot remove the file {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for DeleteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => DeleteError::NotFound,
            other => DeleteError::Store(other),
        }
    }
}

impl From<DeleteError> for ApiError {
    fn from(e: DeleteError) -> Self {
        use axum::http::StatusCode;
        match e {
            DeleteError::NotFound => ApiError::not_found("recording"),
            DeleteError::LegalHold => ApiError::new(StatusCode::CONFLICT, ErrorCode::LegalHold, e.to_string()),
            DeleteError::InProgress => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::RecordingInProgress, e.to_string())
            }
            DeleteError::File { .. } => ApiError::internal(e),
            DeleteError::Store(s) => s.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot measure the free space of the data directory: {0}")]
    Statvfs(std::io::Error),
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Store(s) => s.into(),
            StorageError::Statvfs(_) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid settings")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored settings are not readable: {0}")]
    Corrupt(String),
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid(fields) => ApiError::invalid_fields(fields),
            SettingsError::Store(s) => s.into(),
            SettingsError::Corrupt(m) => ApiError::internal(m),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("dispatch target {0} was already sent")]
    AlreadySent(DispatchId),
    #[error("dispatch target {0} is being sent right now")]
    Busy(DispatchId),
}

impl From<DispatchError> for ApiError {
    fn from(e: DispatchError) -> Self {
        use axum::http::StatusCode;
        match e {
            DispatchError::Store(StoreError::NotFound) => ApiError::not_found("dispatch target"),
            DispatchError::Store(s) => s.into(),
            DispatchError::AlreadySent(_) => ApiError::new(StatusCode::CONFLICT, ErrorCode::AlreadySent, e.to_string()),
            DispatchError::Busy(_) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Busy, e.to_string()),
        }
    }
}

/// Why a toggle was refused.
#[derive(Debug, thiserror::Error)]
pub enum ToggleError {
    #[error("the call has ended")]
    NotLive,
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A pause or resume that does not fit the recording's state.
    #[error(transparent)]
    Pause(#[from] PauseConflict),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.body.code, self.body.message)
    }
}
impl std::error::Error for ApiError {}

impl From<ToggleError> for ApiError {
    fn from(e: ToggleError) -> Self {
        use axum::http::StatusCode;
        match e {
            ToggleError::NotLive => ApiError::new(StatusCode::CONFLICT, ErrorCode::CallNotLive, e.to_string()),
            ToggleError::Refused(Refusal::Denied) => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::RecordingDenied, e.to_string())
            }
            ToggleError::Refused(r) => ApiError::new(StatusCode::FORBIDDEN, ErrorCode::NotPermitted, r.to_string()),
            ToggleError::Pause(c) => ApiError::new(
                StatusCode::CONFLICT,
                match c {
                    PauseConflict::NotRecording => ErrorCode::NotRecording,
                    PauseConflict::AlreadyPaused => ErrorCode::AlreadyPaused,
                    PauseConflict::NotPaused => ErrorCode::NotPaused,
                },
                c.to_string(),
            ),
            ToggleError::Api(a) => a,
        }
    }
}
