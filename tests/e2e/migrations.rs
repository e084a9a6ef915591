//! `otctl migrate` semantics against the real Hrana front: idempotent, versions recorded,
//! edited migrations refused, a failing migration leaves nothing behind.

use e2e::{Stack, root};
use shared::migrate::{self, MigrateError, Migration};
use shared::ports::Sql;
use shared::sql::Statement;

#[tokio::test(flavor = "multi_thread")]
async fn migrations_are_idempotent_recorded_and_atomic() {
    // The harness already applied migrations/ once.
    let stack = Stack::start().await;
    let (_, token) = stack.tokens();
    let again =
        ops::migrations::apply_dir(&root().join("migrations"), &stack.libsql_url, Some(token))
            .await
            .expect("second run");
    assert!(again.applied.is_empty());
    let files = ops::migrations::load_dir(&root().join("migrations")).expect("load");
    let versions: Vec<u32> = files.iter().map(|m| m.version).collect();
    assert_eq!(
        versions,
        (1..=files.len() as u32).collect::<Vec<_>>(),
        "numbered 1..n"
    );
    assert_eq!(again.already_applied, versions);

    let sql = stack.sql();
    let recorded = sql
        .execute(Statement::new(
            "SELECT version, name FROM schema_migrations ORDER BY version",
        ))
        .await
        .expect("query");
    assert_eq!(recorded.rows.len(), files.len());
    assert_eq!(
        recorded.row(0).expect("row").get::<String>("name"),
        Ok("init".to_owned())
    );

    // An edited, already applied migration is refused.
    let mut edited = ops::migrations::load_dir(&root().join("migrations")).expect("load");
    edited[0].sql.push_str("\n-- edited");
    let refused = migrate::apply(&sql, &edited, 0)
        .await
        .expect_err("checksum mismatch");
    assert!(matches!(refused, MigrateError::Changed { version: 1, .. }));

    // A migration that fails half-way writes nothing and is not recorded.
    let broken = Migration::from_file(
        "0099_broken.sql",
        "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);".into(),
    )
    .expect("name");
    let mut with_broken = ops::migrations::load_dir(&root().join("migrations")).expect("load");
    with_broken.push(broken);
    let failed = migrate::apply(&sql, &with_broken, 0)
        .await
        .expect_err("broken migration");
    assert!(matches!(
        failed,
        MigrateError::Sql {
            version: Some(99),
            ..
        }
    ));
    let leftovers = sql
        .execute(Statement::new(
            "SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_done'",
        ))
        .await
        .expect("query");
    assert_eq!(leftovers.row(0).expect("row").get::<i64>("n"), Ok(0));
    let versions = sql
        .execute(Statement::new("SELECT version FROM schema_migrations"))
        .await
        .expect("query");
    assert_eq!(
        versions.rows.len(),
        files.len(),
        "the failed migration is not recorded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn otctl_grant_admin_bootstraps_an_admin_with_an_audit_row() {
    let stack = Stack::start().await;
    let (_, token) = stack.tokens();
    let lower = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
    let wallet = ops::admin::grant_admin(&stack.libsql_url, Some(token), lower)
        .await
        .expect("granted");
    assert_eq!(
        wallet.checksummed(),
        "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
    );
    let sql = stack.sql();
    let role = sql
        .execute(
            Statement::new("SELECT role FROM users WHERE wallet = ?").bind(wallet.checksummed()),
        )
        .await
        .expect("query");
    assert_eq!(
        role.row(0).expect("row").get::<String>("role"),
        Ok("admin".to_owned())
    );
    let audit = sql
        .execute(
            Statement::new("SELECT actor FROM audit_log WHERE target = ?")
                .bind(wallet.checksummed()),
        )
        .await
        .expect("query");
    assert_eq!(audit.rows.len(), 1);
    assert!(
        ops::admin::grant_admin(&stack.libsql_url, Some(token), "0xnope")
            .await
            .is_err()
    );
}
