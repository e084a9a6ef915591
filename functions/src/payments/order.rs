//! One `orders` row and its items, read once.

use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{Row, Rows, Statement};

/// The columns [`OrderRecord::from_row`] reads.
pub const ORDER_COLUMNS: &str = "id, order_ref, event_id, payer, status, total, currency, hold_id, \
     payment_deadline, paid_at, paid_via, payment_intent, paid_amount, paid_token, created_at, updated_at";

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub id: String,
    pub order_ref: String,
    pub event_id: String,
    pub payer: String,
    pub status: String,
    pub total: String,
    pub currency: String,
    pub hold_id: Option<String>,
    pub payment_deadline: i64,
    pub paid_at: Option<i64>,
    pub paid_via: Option<String>,
    pub payment_intent: Option<String>,
    pub paid_amount: Option<String>,
    pub paid_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub ticket_type_id: String,
    pub seat_label: Option<String>,
    pub price: String,
    pub quantity: i64,
}

impl OrderRecord {
    pub fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        Ok(OrderRecord {
            id: row.get("id")?,
            order_ref: row.get("order_ref")?,
            event_id: row.get("event_id")?,
            payer: row.get("payer")?,
            status: row.get("status")?,
            total: row.get("total")?,
            currency: row.get("currency")?,
            hold_id: row.get("hold_id")?,
            payment_deadline: row.get("payment_deadline")?,
            paid_at: row.get("paid_at")?,
            paid_via: row.get("paid_via")?,
            payment_intent: row.get("payment_intent")?,
            paid_amount: row.get("paid_amount")?,
            paid_token: row.get("paid_token")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }

    /// Reads the order whose `column` (`id` or `order_ref`) is `value`.
    ///
    /// # Errors
    /// 503 `LIBSQL_UNAVAILABLE`.
    pub async fn load(sql: &impl Sql, column: &str, value: &str) -> Result<Option<Self>, Error> {
        let column = if column == "order_ref" {
            "order_ref"
        } else {
            "id"
        };
        let rows = sql
            .execute(
                Statement::new(format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE {column} = ?"
                ))
                .bind(value),
            )
            .await?;
        rows.row(0).map(|r| OrderRecord::from_row(&r)).transpose()
    }

    /// The status as clients should see it: a pending order past its deadline is expired
    /// even before the sweep has written that down.
    pub fn effective_status(&self, now_ms: i64) -> &str {
        if self.status == "pending_payment" && self.payment_deadline <= now_ms {
            "expired"
        } else {
            &self.status
        }
    }

    /// Whether the order's items are sold.
    pub fn is_sold(&self) -> bool {
        matches!(self.status.as_str(), "paid" | "overpaid")
    }
}

/// Reads an order's items.
///
/// # Errors
/// 503 `LIBSQL_UNAVAILABLE`.
pub async fn load_items(sql: &impl Sql, order_id: &str) -> Result<Vec<OrderItem>, Error> {
    items_from_rows(&sql.execute(items_statement(order_id)).await?)
}

/// The statement reading an order's items, in order.
pub fn items_statement(order_id: &str) -> Statement {
    Statement::new(
        "SELECT ticket_type_id, seat_label, price, quantity FROM order_items \
         WHERE order_id = ? ORDER BY rowid",
    )
    .bind(order_id)
}

/// The rows of [`items_statement`].
///
/// # Errors
/// Internal for a row of the wrong shape.
pub fn items_from_rows(rows: &Rows) -> Result<Vec<OrderItem>, Error> {
    rows.iter()
        .map(|row| {
            Ok(OrderItem {
                ticket_type_id: row.get("ticket_type_id")?,
                seat_label: row.get("seat_label")?,
                price: row.get("price")?,
                quantity: row.get("quantity")?,
            })
        })
        .collect()
}

/// The items in the hold scripts' shape: `[[type, seat or '', quantity], ...]`.
pub fn script_items(items: &[OrderItem]) -> String {
    serde_json::Value::Array(
        items
            .iter()
            .map(|i| {
                serde_json::json!([
                    i.ticket_type_id,
                    i.seat_label.as_deref().unwrap_or(""),
                    i.quantity
                ])
            })
            .collect(),
    )
    .to_string()
}
