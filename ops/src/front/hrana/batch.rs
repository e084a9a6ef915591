//! Batches, as `sqld` runs them (`proto_batch_to_program` in
//! `libsql-server/src/hrana/batch.rs`, `Vm::try_step` and `eval_cond` in
//! `connection/program.rs`; tag `libsql-server-v0.24.33`).
//!
//! The whole batch is checked before any step runs: one step that does not
//! parse, holds no or several statements, or mixes argument kinds fails the
//! batch request with that step's error, and nothing runs. A condition may
//! only name an earlier step (else a protocol error); `is_autocommit` needs
//! Hrana 3.
//!
//! Then each step runs if its condition holds. A step's outcome is one bit,
//! "ran and succeeded": `ok` reads it, and `error` is its negation, so on
//! `sqld` (and here) `error` also holds for a step that was skipped. A step
//! that fails (including `ARGS_INVALID` for a missing argument) reports its
//! error and the steps conditioned on it are skipped, so a conditional
//! BEGIN … COMMIT/ROLLBACK batch rolls back.

use libsql_hrana::proto::{Batch, BatchCond, BatchResult, Error, StmtResult};

use super::errors::{Failure, protocol};
use super::exec::SqlStream;
use super::query::{self, Query};

/// A step condition over earlier steps' outcomes.
#[derive(Debug)]
enum Cond {
    Ok(usize),
    Err(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    IsAutocommit,
}

/// A checked batch.
#[derive(Debug)]
pub(super) struct Program {
    steps: Vec<(Query, Option<Cond>)>,
}

/// Check every step of `batch` (see the module doc).
///
/// # Errors
/// The first failing step's statement error, or a protocol error.
pub(super) fn compile(stream: &SqlStream, batch: &Batch, hrana3: bool) -> Result<Program, Failure> {
    let mut steps = Vec::with_capacity(batch.steps.len());
    for (i, step) in batch.steps.iter().enumerate() {
        let sql = stream.resolve_sql(step.stmt.sql.as_deref(), step.stmt.sql_id)?;
        let query = query::compile(&stream.conn, &sql, &step.stmt.args, &step.stmt.named_args)?;
        let cond = step
            .condition
            .as_ref()
            .map(|c| convert(c, i, hrana3))
            .transpose()?;
        steps.push((query, cond));
    }
    Ok(Program { steps })
}

fn convert(cond: &BatchCond, current: usize, hrana3: bool) -> Result<Cond, Failure> {
    let earlier = |step: u32| {
        usize::try_from(step)
            .ok()
            .filter(|&s| s < current)
            .ok_or_else(|| Failure::Protocol(protocol::BATCH_COND_BAD_STEP.into()))
    };
    let all = |list: &[BatchCond]| {
        list.iter()
            .map(|c| convert(c, current, hrana3))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match cond {
        BatchCond::None => return Err(Failure::Protocol(protocol::NONE_BATCH_COND.into())),
        BatchCond::Ok { step } => Cond::Ok(earlier(*step)?),
        BatchCond::Error { step } => Cond::Err(earlier(*step)?),
        BatchCond::Not { cond } => Cond::Not(Box::new(convert(cond, current, hrana3)?)),
        BatchCond::And(list) => Cond::And(all(&list.conds)?),
        BatchCond::Or(list) => Cond::Or(all(&list.conds)?),
        BatchCond::IsAutocommit {} if !hrana3 => {
            return Err(Failure::Protocol(protocol::not_supported(
                "BatchCond of type `is_autocommit`",
                "hrana3",
            )));
        }
        BatchCond::IsAutocommit {} => Cond::IsAutocommit,
    })
}

/// `outcomes[i]`: step `i` ran and succeeded. Steps are checked to be
/// earlier ones, so every index is present.
fn eval(cond: &Cond, outcomes: &[bool], autocommit: bool) -> bool {
    let outcome = |step: &usize| outcomes.get(*step).copied().unwrap_or(false);
    match cond {
        Cond::Ok(step) => outcome(step),
        Cond::Err(step) => !outcome(step),
        Cond::Not(c) => !eval(c, outcomes, autocommit),
        Cond::And(list) => list.iter().all(|c| eval(c, outcomes, autocommit)),
        Cond::Or(list) => list.iter().any(|c| eval(c, outcomes, autocommit)),
        Cond::IsAutocommit => autocommit,
    }
}

/// Run a checked batch.
///
/// # Errors
/// Only [`Failure::Forbidden`] for an `ATTACH` (before anything runs); step
/// errors are in the result.
pub(super) fn execute(stream: &SqlStream, program: &Program) -> Result<BatchResult, Failure> {
    query::refuse_attach(program.steps.iter().map(|(q, _)| &q.kind))?;
    let n = program.steps.len();
    let mut outcomes = Vec::with_capacity(n);
    let mut step_results: Vec<Option<StmtResult>> = Vec::with_capacity(n);
    let mut step_errors: Vec<Option<Error>> = Vec::with_capacity(n);
    for (query, cond) in &program.steps {
        let enabled = cond
            .as_ref()
            .is_none_or(|c| eval(c, &outcomes, stream.conn.is_autocommit()));
        let (result, error) = if enabled {
            match query::run(stream, query) {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(e)),
            }
        } else {
            (None, None)
        };
        outcomes.push(result.is_some());
        step_results.push(result);
        step_errors.push(error);
    }
    Ok(BatchResult {
        step_results,
        step_errors,
        replication_index: None,
    })
}
