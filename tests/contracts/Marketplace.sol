// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The part of TicketNFT the marketplace uses.
interface ITicketNFT {
    function ownerOf(uint256 tokenId) external view returns (address);
    function getApproved(uint256 tokenId) external view returns (address);
    function isApprovedForAll(address owner, address operator) external view returns (bool);
    function statusOf(uint256 tokenId) external view returns (uint8);
    function transferFrom(address from, address to, uint256 tokenId) external;
}

/// @title Marketplace: resale of TicketNFT tickets for ETH.
/// @notice A holder lists a ticket at a price after approving the marketplace; the token stays
/// with the seller until someone buys it (no escrow). A token has at most one active listing:
/// listing a token again after it changed hands cancels the former holder's stale listing (with
/// a `ListingCancelled` event), so the events alone tell which listings are open. A listing whose
/// token was moved or revoked without being relisted stays active but cannot be bought.
/// @dev Events match `shared/src/chain/events.rs`.
contract Marketplace {
    enum Status {
        None,
        Active,
        Cancelled,
        Sold
    }

    struct Listing {
        uint256 tokenId;
        uint256 price;
        address seller;
        Status status;
    }

    event Listed(uint256 indexed listingId, uint256 indexed tokenId, address indexed seller, uint256 price);
    event ListingCancelled(uint256 indexed listingId);
    event Sold(uint256 indexed listingId, address indexed buyer, uint256 price);

    error NotOwner(address caller, uint256 tokenId);
    error NotApproved(uint256 tokenId);
    error TicketNotValid(uint256 tokenId);
    error ZeroPrice();
    error AlreadyListed(uint256 listingId);
    error NotActive(uint256 listingId);
    error NotSeller(address caller);
    error OwnListing();
    error WrongPayment(uint256 expected, uint256 sent);
    error PaymentFailed();

    ITicketNFT public immutable tickets;
    uint256 public listingCount;
    mapping(uint256 listingId => Listing) public listings;
    /// The open listing of a token (0 when none).
    mapping(uint256 tokenId => uint256 listingId) public activeListingOf;

    constructor(ITicketNFT ticketNft) {
        tickets = ticketNft;
    }

    /// @notice Offers one of the caller's valid tickets for `price` wei.
    function list(uint256 tokenId, uint256 price) external returns (uint256 listingId) {
        if (price == 0) revert ZeroPrice();
        if (tickets.ownerOf(tokenId) != msg.sender) revert NotOwner(msg.sender, tokenId);
        if (tickets.getApproved(tokenId) != address(this) && !tickets.isApprovedForAll(msg.sender, address(this))) {
            revert NotApproved(tokenId);
        }
        if (tickets.statusOf(tokenId) != 0) revert TicketNotValid(tokenId);

        uint256 previous = activeListingOf[tokenId];
        if (previous != 0) {
            if (listings[previous].seller == msg.sender) revert AlreadyListed(previous);
            // The token changed hands since: the former holder's listing can never be filled.
            listings[previous].status = Status.Cancelled;
            emit ListingCancelled(previous);
        }
        listingId = ++listingCount;
        listings[listingId] = Listing({tokenId: tokenId, price: price, seller: msg.sender, status: Status.Active});
        activeListingOf[tokenId] = listingId;
        emit Listed(listingId, tokenId, msg.sender, price);
    }

    /// @notice Withdraws the caller's open listing.
    function cancel(uint256 listingId) external {
        Listing storage l = listings[listingId];
        if (l.status != Status.Active) revert NotActive(listingId);
        if (l.seller != msg.sender) revert NotSeller(msg.sender);
        l.status = Status.Cancelled;
        delete activeListingOf[l.tokenId];
        emit ListingCancelled(listingId);
    }

    /// @notice Buys a listed ticket for exactly its price: the token moves to the caller
    /// (`transferFrom`, so it also emits `Transfer`) and the seller is paid.
    function buy(uint256 listingId) external payable {
        Listing storage l = listings[listingId];
        if (l.status != Status.Active) revert NotActive(listingId);
        address seller = l.seller;
        if (seller == msg.sender) revert OwnListing();
        uint256 price = l.price;
        if (msg.value != price) revert WrongPayment(price, msg.value);

        // Checks-effects-interactions: the listing is closed before any external call, so a
        // re-entrant `buy` of the same listing fails with `NotActive`.
        l.status = Status.Sold;
        delete activeListingOf[l.tokenId];
        emit Sold(listingId, msg.sender, price);

        // Reverts when the seller no longer holds the token, revoked the approval, or the ticket
        // is no longer valid.
        tickets.transferFrom(seller, msg.sender, l.tokenId);
        (bool ok,) = payable(seller).call{value: price}("");
        if (!ok) revert PaymentFailed();
    }
}
