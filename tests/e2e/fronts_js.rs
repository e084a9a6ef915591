//! The local fronts proven with the official JS clients (`@upstash/redis`, `@libsql/client`):
//! runs `node --test tests/js/` against a fresh stack.

use e2e::{Stack, root, run_node_tests};

#[tokio::test(flavor = "multi_thread")]
async fn official_js_clients_accept_the_local_fronts() {
    let stack = Stack::start().await;
    let (redis_token, libsql_token) = stack.tokens();
    let mut files: Vec<String> = std::fs::read_dir(root().join("tests/js"))
        .expect("tests/js exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("tests/js/{name}"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no JS tests found");
    run_node_tests(
        &files,
        &[
            ("UPSTASH_REDIS_REST_URL", &stack.upstash_url),
            ("UPSTASH_REDIS_REST_TOKEN", redis_token),
            ("LIBSQL_URL", &stack.libsql_url),
            ("LIBSQL_AUTH_TOKEN", libsql_token),
        ],
    )
    .await;
}
