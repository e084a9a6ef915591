//! An [`App`] behind the local CDN (`ops::front::cdn`): the CDN starts first, with no origin,
//! so the app can be told where it is (`LIVE_FEED_URL`); once the app listens the CDN is
//! pointed at it. Stream feeds then read the change log through the CDN's one-second cache.

use ops::front::cdn::{self, CdnConfig, RunningCdn};

use crate::{App, Runtime, Stack};

/// An app whose feeds read through `cdn`.
pub struct BehindCdn {
    pub app: App,
    pub cdn: RunningCdn,
}

impl BehindCdn {
    /// Starts a CDN, then the app on `runtime` with `LIVE_FEED_URL` set to the CDN (and
    /// `overrides`, as [`App::spawn`] takes them), then points the CDN at the app.
    pub async fn spawn(runtime: Runtime, stack: &Stack, overrides: &[(&str, &str)]) -> Self {
        let cdn = cdn::start(CdnConfig::default())
            .await
            .expect("the local CDN starts");
        let url = cdn.url();
        let mut env: Vec<(&str, &str)> = overrides.to_vec();
        env.retain(|(k, _)| *k != "LIVE_FEED_URL");
        env.push(("LIVE_FEED_URL", &url));
        let app = App::spawn(runtime, stack, &env).await;
        cdn.set_origin(&app.base_url);
        BehindCdn { app, cdn }
    }
}
