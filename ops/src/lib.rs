//! Operations tooling for OnlineTicket Edge (`otctl`): the pieces that run a
//! local stack. `front` holds the local stand-ins for the managed data services
//! (Upstash REST in front of a real Redis, Hrana over HTTP in front of an
//! embedded libSQL), so the edge functions reach "Upstash" and "Turso" over
//! HTTP exactly as they do in production.

pub mod admin;
pub mod demo;
pub mod front;
pub mod http;
pub mod indexer;
pub mod migrations;
pub mod sales;
