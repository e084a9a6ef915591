// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Receiver hook of ERC-721 `safeTransferFrom`.
interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}

/// @title TicketNFT: event tickets as ERC-721 tokens.
/// @notice Organizers create events and ticket types (price in wei, fixed supply), then mint
/// tickets or sell them (`buy`). A ticket is `Valid` until the organizer marks it `Used` at the
/// door or `Revoked`; only valid tickets can be transferred, so a used or revoked ticket stays
/// with its last holder. Ids of events, ticket types and tokens are global and start at 1.
/// @dev A minimal ERC-721 with no imports. The events below are the project's published
/// interface: `shared/src/chain/events.rs` declares them with the same names, types and
/// `indexed` flags, and the indexer decodes them.
contract TicketNFT {
    enum Status {
        Valid,
        Used,
        Revoked
    }

    struct EventInfo {
        address organizer;
        string name;
    }

    struct TicketType {
        uint256 eventId;
        uint128 price;
        uint64 supply;
        uint64 minted;
    }

    /// One storage slot per ticket: a mint costs a single new slot.
    struct Ticket {
        address owner;
        uint64 typeId;
        Status status;
    }

    // ERC-721
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    // Ticketing
    event EventCreated(uint256 indexed eventId, address indexed organizer, string name);
    event TicketTypeCreated(uint256 indexed eventId, uint256 indexed typeId, uint256 price, uint256 supply);
    event TicketMinted(uint256 indexed tokenId, uint256 indexed eventId, uint256 indexed typeId, address to);
    event TicketUsed(uint256 indexed tokenId);
    event TicketRevoked(uint256 indexed tokenId);

    error EmptyName();
    error UnknownEvent(uint256 eventId);
    error UnknownTicketType(uint256 typeId);
    error TypeNotOfEvent(uint256 typeId, uint256 eventId);
    error NotOrganizer(address caller);
    error ZeroSupply();
    error ZeroCount();
    error PriceTooHigh();
    error SoldOut(uint256 typeId);
    error WrongPayment(uint256 expected, uint256 sent);
    error PaymentFailed();
    error NonexistentToken(uint256 tokenId);
    error NotValid(uint256 tokenId, Status status);
    error NotAuthorized(address caller, uint256 tokenId);
    error WrongFrom(address from, address owner);
    error ZeroAddress();
    error UnsafeRecipient(address to);

    string public constant name = "OnlineTicket";
    string public constant symbol = "OTIX";

    uint256 public eventCount;
    uint256 public ticketTypeCount;
    /// Number of tokens minted; token ids are 1..=totalSupply (revoked tickets are not burned).
    uint256 public totalSupply;

    mapping(uint256 eventId => EventInfo) private _events;
    mapping(uint256 typeId => TicketType) private _types;
    mapping(uint256 tokenId => Ticket) private _tickets;
    mapping(address owner => uint256) private _balances;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;

    // ---------------------------------------------------------------- organizers

    /// @notice Registers an event; the caller becomes its organizer.
    function createEvent(string calldata eventName) external returns (uint256 eventId) {
        if (bytes(eventName).length == 0) revert EmptyName();
        eventId = ++eventCount;
        _events[eventId] = EventInfo({organizer: msg.sender, name: eventName});
        emit EventCreated(eventId, msg.sender, eventName);
    }

    /// @notice Adds a ticket type (price in wei, 0 for free tickets) to one of the caller's events.
    function createTicketType(uint256 eventId, uint256 price, uint256 supply) external returns (uint256 typeId) {
        _onlyOrganizer(eventId);
        if (supply == 0) revert ZeroSupply();
        if (price > type(uint128).max) revert PriceTooHigh();
        if (supply > type(uint64).max) supply = type(uint64).max;
        typeId = ++ticketTypeCount;
        _types[typeId] = TicketType({eventId: eventId, price: uint128(price), supply: uint64(supply), minted: 0});
        emit TicketTypeCreated(eventId, typeId, price, supply);
    }

    /// @notice The organizer issues one ticket (comps, box office sales paid off-chain).
    function mint(address to, uint256 eventId, uint256 typeId) external returns (uint256 tokenId) {
        _onlyOrganizer(eventId);
        tokenId = _mintTickets(to, eventId, typeId, 1);
    }

    /// @notice The organizer issues `count` tickets of one type to one holder in one transaction.
    /// @return firstTokenId the first of the `count` consecutive token ids.
    function mintBatch(address to, uint256 eventId, uint256 typeId, uint256 count)
        external
        returns (uint256 firstTokenId)
    {
        _onlyOrganizer(eventId);
        firstTokenId = _mintTickets(to, eventId, typeId, count);
    }

    /// @notice Primary sale: mints one ticket to the caller for exactly the type's price, which is
    /// forwarded to the organizer.
    function buy(uint256 eventId, uint256 typeId) external payable returns (uint256 tokenId) {
        uint256 price = _types[typeId].price;
        if (msg.value != price) revert WrongPayment(price, msg.value);
        // Effects (the mint) before the interaction (paying the organizer).
        tokenId = _mintTickets(msg.sender, eventId, typeId, 1);
        if (price > 0) {
            (bool ok,) = payable(_events[eventId].organizer).call{value: price}("");
            if (!ok) revert PaymentFailed();
        }
    }

    /// @notice Checked in at the door.
    function markUsed(uint256 tokenId) external {
        Ticket storage t = _validTicketOfCallersEvent(tokenId);
        t.status = Status.Used;
        emit TicketUsed(tokenId);
    }

    /// @notice Invalidated by the organizer (fraud, chargeback, cancelled seat). Not burned.
    function revoke(uint256 tokenId) external {
        Ticket storage t = _validTicketOfCallersEvent(tokenId);
        t.status = Status.Revoked;
        emit TicketRevoked(tokenId);
    }

    // ---------------------------------------------------------------- views

    function eventInfo(uint256 eventId) external view returns (address organizer, string memory eventName) {
        EventInfo storage e = _events[eventId];
        if (e.organizer == address(0)) revert UnknownEvent(eventId);
        return (e.organizer, e.name);
    }

    function ticketType(uint256 typeId)
        external
        view
        returns (uint256 eventId, uint256 price, uint256 supply, uint256 minted)
    {
        TicketType storage tt = _types[typeId];
        if (tt.eventId == 0) revert UnknownTicketType(typeId);
        return (tt.eventId, tt.price, tt.supply, tt.minted);
    }

    function ticket(uint256 tokenId)
        external
        view
        returns (address owner, uint256 eventId, uint256 typeId, Status status)
    {
        Ticket storage t = _existing(tokenId);
        return (t.owner, _types[t.typeId].eventId, t.typeId, t.status);
    }

    function statusOf(uint256 tokenId) external view returns (Status) {
        return _existing(tokenId).status;
    }

    // ---------------------------------------------------------------- ERC-165 / ERC-721

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 // ERC-165
            || interfaceId == 0x80ac58cd; // ERC-721
    }

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ZeroAddress();
        return _balances[owner];
    }

    function ownerOf(uint256 tokenId) public view returns (address) {
        return _existing(tokenId).owner;
    }

    function approve(address to, uint256 tokenId) external {
        address owner = ownerOf(tokenId);
        if (msg.sender != owner && !_operatorApprovals[owner][msg.sender]) {
            revert NotAuthorized(msg.sender, tokenId);
        }
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    function getApproved(uint256 tokenId) external view returns (address) {
        _existing(tokenId);
        return _tokenApprovals[tokenId];
    }

    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert ZeroAddress();
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        Ticket storage t = _existing(tokenId);
        address owner = t.owner;
        if (from != owner) revert WrongFrom(from, owner);
        if (to == address(0)) revert ZeroAddress();
        if (msg.sender != owner && _tokenApprovals[tokenId] != msg.sender && !_operatorApprovals[owner][msg.sender]) {
            revert NotAuthorized(msg.sender, tokenId);
        }
        if (t.status != Status.Valid) revert NotValid(tokenId, t.status);
        // The Transfer event also means the single-token approval is reset (EIP-721).
        delete _tokenApprovals[tokenId];
        unchecked {
            _balances[from] -= 1;
            _balances[to] += 1;
        }
        t.owner = to;
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        if (to.code.length > 0) {
            bytes4 answer = IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data);
            if (answer != IERC721Receiver.onERC721Received.selector) revert UnsafeRecipient(to);
        }
    }

    // ---------------------------------------------------------------- internals

    function _onlyOrganizer(uint256 eventId) private view {
        address organizer = _events[eventId].organizer;
        if (organizer == address(0)) revert UnknownEvent(eventId);
        if (organizer != msg.sender) revert NotOrganizer(msg.sender);
    }

    function _existing(uint256 tokenId) private view returns (Ticket storage t) {
        t = _tickets[tokenId];
        if (t.owner == address(0)) revert NonexistentToken(tokenId);
    }

    function _validTicketOfCallersEvent(uint256 tokenId) private view returns (Ticket storage t) {
        t = _existing(tokenId);
        _onlyOrganizer(_types[t.typeId].eventId);
        if (t.status != Status.Valid) revert NotValid(tokenId, t.status);
    }

    /// Mints `count` tickets; emits `Transfer(0, to, id)` then `TicketMinted` for each.
    function _mintTickets(address to, uint256 eventId, uint256 typeId, uint256 count)
        private
        returns (uint256 firstTokenId)
    {
        if (to == address(0)) revert ZeroAddress();
        TicketType storage tt = _types[typeId];
        if (tt.eventId == 0) revert UnknownTicketType(typeId);
        if (tt.eventId != eventId) revert TypeNotOfEvent(typeId, eventId);
        uint256 minted = tt.minted;
        if (count == 0) revert ZeroCount();
        if (count > tt.supply - minted) revert SoldOut(typeId);
        tt.minted = uint64(minted + count);

        firstTokenId = totalSupply + 1;
        uint256 end = firstTokenId + count;
        totalSupply = end - 1;
        _balances[to] += count;
        for (uint256 tokenId = firstTokenId; tokenId < end; ++tokenId) {
            _tickets[tokenId] = Ticket({owner: to, typeId: uint64(typeId), status: Status.Valid});
            emit Transfer(address(0), to, tokenId);
            emit TicketMinted(tokenId, eventId, typeId, to);
        }
    }
}
