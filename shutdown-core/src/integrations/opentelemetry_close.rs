//! OpenTelemetry SDK providers: `shutdown()`, which flushes what the batch processors hold.
//!
//! ```no_run
//! use graceful::{Graceful, Resource};
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//!
//! # async fn demo(exporter: opentelemetry_sdk::trace::InMemorySpanExporter) {
//! let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).build();
//! // Lowest priority: the spans of every other close are still exported.
//! let telemetry = Resource::from_value("telemetry", i32::MIN, provider).close_trait();
//! let outcome = Graceful::builder()
//!     .resource(telemetry)
//!     .build()
//!     .expect("valid configuration")
//!     .run(|_shutdown| async {})
//!     .await;
//! # let _ = outcome;
//! # }
//! ```

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use crate::error::BoxError;
use crate::resource::Close;

/// Runs a blocking `shutdown` on a blocking thread; a provider already shut down is fine.
async fn shutdown<P>(provider: P, shutdown: fn(&P) -> OTelSdkResult) -> Result<(), BoxError>
where
    P: Send + 'static,
{
    match tokio::task::spawn_blocking(move || shutdown(&provider)).await? {
        Ok(()) | Err(OTelSdkError::AlreadyShutdown) => Ok(()),
        Err(e) => Err(Box::new(e)),
    }
}

/// `shutdown()`: span processors flush (a batch processor exports what it holds) and the
/// exporters shut down.
impl Close for opentelemetry_sdk::trace::SdkTracerProvider {
    async fn close(&self) -> Result<(), BoxError> {
        shutdown(self.clone(), Self::shutdown).await
    }
}

/// `shutdown()`: readers collect and export a last time, then shut down.
impl Close for opentelemetry_sdk::metrics::SdkMeterProvider {
    async fn close(&self) -> Result<(), BoxError> {
        shutdown(self.clone(), Self::shutdown).await
    }
}

/// `shutdown()`: log processors flush and the exporters shut down.
impl Close for opentelemetry_sdk::logs::SdkLoggerProvider {
    async fn close(&self) -> Result<(), BoxError> {
        shutdown(self.clone(), Self::shutdown).await
    }
}
