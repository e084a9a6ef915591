use super::*;

const ALICE: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const MAX: &str = "115792089237316195423570985008687907853269984665640564039457584007913129639935";

fn field_of<T: std::fmt::Debug>(result: Result<T, Error>) -> Option<String> {
    match result {
        Err(Error::Invalid { field, .. }) => Some(field),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn q(s: &str) -> Query {
    Query::parse(Some(s))
}

#[test]
fn chain_uints_are_canonical_decimals() {
    for good in ["0", "1", "42", "18446744073709551616", MAX] {
        assert_eq!(ChainUint::parse(good).map(|c| c.0), Ok(good.to_owned()));
    }
    let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
    for bad in [
        "", "007", "-1", "+1", "0x2a", "1.0", " 1", "1e3", "abc", over,
    ] {
        assert!(ChainUint::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        field_of(ChainUint::param("tokenId", "x")).as_deref(),
        Some("tokenId")
    );
}

#[test]
fn statuses_parse_exactly_their_words() {
    for s in [
        TicketStatus::Valid,
        TicketStatus::Used,
        TicketStatus::Revoked,
    ] {
        assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
    }
    for s in [
        ListingStatus::Listed,
        ListingStatus::Cancelled,
        ListingStatus::Sold,
    ] {
        assert_eq!(ListingStatus::parse(s.as_str()), Some(s));
    }
    assert_eq!(TicketStatus::parse("Valid"), None);
    assert_eq!(ListingStatus::parse("open"), None);
    assert_eq!(
        serde_json::to_value(ListingStatus::Cancelled).ok(),
        Some(serde_json::json!("cancelled"))
    );
}

#[test]
fn wallet_query_defaults_and_filter() {
    let query = WalletTicketsQuery::parse(&ALICE.to_lowercase(), &q("")).expect("valid");
    assert_eq!(query.owner.checksummed(), ALICE);
    assert_eq!((query.page.page, query.page.page_size), (1, 20));
    let filter = query.filter();
    assert_eq!(filter.sql(), "WHERE t.token_id IS NOT NULL AND t.owner = ?");
    assert_eq!(filter.args, vec![SqlValue::Text(ALICE.into())]);

    let query = WalletTicketsQuery::parse(
        &ALICE.to_uppercase().replace("0X", "0x"),
        &q("status=used&eventId=7&page=2&pageSize=5&junk=1"),
    )
    .expect("valid");
    assert_eq!(query.status, Some(TicketStatus::Used));
    assert_eq!(query.page.offset(), 5);
    let filter = query.filter();
    assert_eq!(
        filter.sql(),
        "WHERE t.token_id IS NOT NULL AND t.owner = ? AND t.status = ? AND t.event_id = ?"
    );
    assert_eq!(
        filter.args,
        vec![
            SqlValue::Text(ALICE.into()),
            SqlValue::Text("used".into()),
            SqlValue::Text("7".into())
        ]
    );
    assert_eq!(
        query.order_by(),
        "length(t.token_id), t.token_id",
        "numeric order for every uint256"
    );
    // Empty values mean "no filter", like everywhere else in the API.
    let query = WalletTicketsQuery::parse(ALICE, &q("status=&eventId=")).expect("valid");
    assert_eq!((query.status, query.event_id), (None, None));
}

#[test]
fn wallet_query_names_bad_parameters() {
    let bad_checksum = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8";
    for (address, query, field) in [
        ("0x1234", "", "address"),
        (bad_checksum, "", "address"),
        ("alice.eth", "", "address"),
        (ALICE, "status=lost", "status"),
        (ALICE, "status=VALID", "status"),
        (ALICE, "eventId=01", "eventId"),
        (ALICE, "eventId=-1", "eventId"),
        (ALICE, "pageSize=101", "pageSize"),
        (ALICE, "page=0", "page"),
    ] {
        assert_eq!(
            field_of(WalletTicketsQuery::parse(address, &q(query))).as_deref(),
            Some(field),
            "{address} {query}"
        );
    }
}

#[test]
fn listings_query_defaults_filters_and_sorts() {
    let query = ListingsQuery::parse(&q("")).expect("valid");
    assert_eq!(query.sort, ListingSort::NewestFirst);
    assert_eq!(query.filter().sql(), "");
    assert_eq!(
        query.sort.order_by(),
        "l.created_block DESC, length(l.id), l.id"
    );

    let query = ListingsQuery::parse(&q(&format!(
        "eventId=3&status=sold&seller={}&sort=-price",
        ALICE.to_lowercase()
    )))
    .expect("valid");
    let filter = query.filter();
    assert_eq!(
        filter.sql(),
        "WHERE l.event_id = ? AND l.status = ? AND l.seller = ?"
    );
    assert_eq!(
        filter.args,
        vec![
            SqlValue::Text("3".into()),
            SqlValue::Text("sold".into()),
            SqlValue::Text(ALICE.into())
        ]
    );
    assert_eq!(
        query.sort.order_by(),
        "length(l.price) DESC, l.price DESC, length(l.id), l.id"
    );
    assert_eq!(
        ListingSort::PriceAscending.order_by(),
        "length(l.price), l.price, length(l.id), l.id"
    );
    assert_eq!(
        ListingSort::OldestFirst.order_by(),
        "l.created_block ASC, length(l.id), l.id"
    );
}

#[test]
fn listings_query_names_bad_parameters() {
    for (query, field) in [
        ("status=open", "status"),
        ("status=Listed", "status"),
        ("seller=0x12", "seller"),
        ("eventId=x", "eventId"),
        ("sort=price,id", "sort"),
        ("pageSize=0", "pageSize"),
    ] {
        assert_eq!(
            field_of(ListingsQuery::parse(&q(query))).as_deref(),
            Some(field),
            "{query}"
        );
    }
}

#[test]
fn filters_bind_their_arguments_in_order() {
    let statement = Filter::new("a")
        .and("b = ?", Some(1i64))
        .and("c = ?", None::<i64>)
        .and("d = ?", Some("x"))
        .statement("SELECT 1".into())
        .bind(5i64);
    assert_eq!(
        statement.args,
        vec![
            SqlValue::Integer(1),
            SqlValue::Text("x".into()),
            SqlValue::Integer(5)
        ]
    );
}
