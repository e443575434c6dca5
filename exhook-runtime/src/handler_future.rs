//! What a handler function returns: its own future, marked with the handle
//! `provider!` lists, so that `provider![auth]` finds the handler from the
//! function `auth` itself.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::handler::Handler;

/// The future a handler function returns.
///
/// A hook attribute keeps the `async fn` it is put on, and gives it a
/// signature that says it is a handler: `async fn auth(..) -> Decision`
/// becomes `fn auth(..) -> impl HandlerFuture<Handle = auth, Output =
/// Decision>`, where `auth` is the handle the attribute makes. Calling
/// and awaiting it is unchanged, `auth(..).await` is the `Decision`, and
/// `provider![auth]` can tell from the function alone that it is a handler.
/// Only the attributes implement this trait.
///
/// ```
/// use exhook_runtime::prelude::*;
///
/// #[on_client_authenticate]
/// async fn auth(client: &ClientInfo) -> Decision {
///     if client.username == "admin" { Decision::Allow } else { Decision::Ignore }
/// }
///
/// // Called and awaited as written.
/// async fn admin_allowed(admin: &ClientInfo) -> bool {
///     auth(admin).await == Decision::Allow
/// }
///
/// let _server = Server::new(provider![auth]);
/// ```
pub trait HandlerFuture: Future + crate::__private::Sealed {
    /// The handle `provider!` lists for the function.
    #[doc(hidden)]
    type Handle: Handler;
}

pin_project_lite::pin_project! {
    /// A handler function's own future, marked with its handle `H`.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Handled<H, F> {
        #[pin]
        future: F,
        handle: PhantomData<fn() -> H>,
    }
}

impl<H, F> Handled<H, F> {
    /// Marks `future`, the handler function's own.
    #[inline]
    pub const fn new(future: F) -> Self {
        Handled {
            future,
            handle: PhantomData,
        }
    }
}

impl<H, F: Future> Future for Handled<H, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

impl<H: Handler, F: Future> crate::__private::Sealed for Handled<H, F> {}

impl<H: Handler, F: Future> HandlerFuture for Handled<H, F> {
    type Handle = H;
}
