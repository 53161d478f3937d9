//! `audit_log.actor`: who acted, `user` (then `actor_id` names them) or `cli` (the operator's
//! command line, which has no user: `actor_id` is NULL). A check keeps the two consistent.
//!
//! SQLite cannot drop a NOT NULL constraint, so there the table is rebuilt with the new shape
//! and its rows copied; PostgreSQL alters it in place.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CONSISTENT: &str =
    "(actor = 'user' AND actor_id IS NOT NULL) OR (actor <> 'user' AND actor_id IS NULL)";
const ALL_BUT_ACTOR: &str =
    "id, actor_id, action, target_type, target_id, before, after, client_addr, created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => {
                manager
                    .create_table(audit_table(AuditLog::New, true))
                    .await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO audit_log_new ({ALL_BUT_ACTOR}, actor) \
                     SELECT {ALL_BUT_ACTOR}, 'user' FROM audit_log"
                ))
                .await?;
                replace_table(manager).await
            }
            _ => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE audit_log \
                     ALTER COLUMN actor_id DROP NOT NULL, \
                     ADD COLUMN actor varchar(16) NOT NULL DEFAULT 'user', \
                     ADD CONSTRAINT audit_log_actor_consistent CHECK ({CONSISTENT})"
                ))
                .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Rows without a user cannot go back into the old shape; deleting audit rows to make
        // them fit would lose history, so refuse instead.
        let without_user = db
            .query_one_raw(sea_orm::Statement::from_string(
                manager.get_database_backend(),
                "SELECT id FROM audit_log WHERE actor_id IS NULL LIMIT 1",
            ))
            .await?;
        if without_user.is_some() {
            return Err(DbErr::Migration(
                "audit_log has rows by the command line (no actor_id); \
                 the previous schema cannot hold them"
                    .into(),
            ));
        }
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => {
                manager
                    .create_table(audit_table(AuditLog::New, false))
                    .await?;
                db.execute_unprepared(&format!(
                    "INSERT INTO audit_log_new ({ALL_BUT_ACTOR}) SELECT {ALL_BUT_ACTOR} FROM audit_log"
                ))
                .await?;
                replace_table(manager).await
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE audit_log \
                     DROP CONSTRAINT audit_log_actor_consistent, \
                     DROP COLUMN actor, \
                     ALTER COLUMN actor_id SET NOT NULL",
                )
                .await?;
                Ok(())
            }
        }
    }
}

/// The audit table under `name`: with the `actor` column (and a nullable `actor_id`) or in
/// its original shape.
fn audit_table(name: AuditLog, with_actor: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name).col(big_pk_auto(AuditLog::Id));
    if with_actor {
        table
            .col(big_integer_null(AuditLog::ActorId))
            .col(string_len(AuditLog::Actor, 16).default("user"))
            .check(Expr::cust(CONSISTENT));
    } else {
        table.col(big_integer(AuditLog::ActorId));
    }
    table
        .col(string_len(AuditLog::Action, 64))
        .col(string_len(AuditLog::TargetType, 32))
        .col(string_len_null(AuditLog::TargetId, 64))
        .col(json_binary_null(AuditLog::Before))
        .col(json_binary_null(AuditLog::After))
        .col(string_len_null(AuditLog::ClientAddr, 64))
        .col(timestamp_with_time_zone(AuditLog::CreatedAt))
        .foreign_key(&mut fk(
            name,
            AuditLog::ActorId,
            AuditLog::Users,
            AuditLog::Id,
        ))
        .to_owned()
}

/// Swaps the copy in for the old table (SQLite) and restores its indexes.
async fn replace_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .drop_table(Table::drop().table(AuditLog::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(AuditLog::New, AuditLog::Table)
                .to_owned(),
        )
        .await?;
    for (name, col) in [
        ("idx_audit_log_action", AuditLog::Action),
        ("idx_audit_log_actor", AuditLog::ActorId),
    ] {
        manager
            .create_index(index(name, AuditLog::Table, &[col, AuditLog::Id], false))
            .await?;
    }
    Ok(())
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    #[sea_orm(iden = "audit_log_new")]
    New,
    Id,
    ActorId,
    Actor,
    Action,
    TargetType,
    TargetId,
    Before,
    After,
    ClientAddr,
    CreatedAt,
    Users,
}
