//! The admin listener across an in-place upgrade (feature `upgrade`): which process accepts on
//! the shared socket, and what readiness the old one reports once it handed over. The rule is
//! `upgrade::turn`'s; without the feature, this process alone serves its listener.

use crate::shutdown::Shutdown;

/// Waits until this process should accept on its admin listener; `false` if never.
pub(crate) async fn ours(shutdown: &Shutdown) -> bool {
    #[cfg(all(feature = "upgrade", unix))]
    {
        crate::upgrade::turn::ours(shutdown).await
    }
    #[cfg(not(all(feature = "upgrade", unix)))]
    {
        let _ = shutdown;
        true
    }
}

/// The ready successor this process handed over to, if it did.
pub(crate) fn successor(shutdown: &Shutdown) -> Option<u32> {
    #[cfg(all(feature = "upgrade", unix))]
    {
        crate::upgrade::turn::successor(shutdown)
    }
    #[cfg(not(all(feature = "upgrade", unix)))]
    {
        let _ = shutdown;
        None
    }
}

/// Resolves once this process handed over to a ready successor; never otherwise.
pub(crate) async fn handed_over(shutdown: &Shutdown) {
    #[cfg(all(feature = "upgrade", unix))]
    {
        crate::upgrade::turn::handed_over(shutdown).await;
    }
    #[cfg(not(all(feature = "upgrade", unix)))]
    {
        let _ = shutdown;
        std::future::pending::<()>().await;
    }
}
