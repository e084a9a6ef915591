// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PaymentVault: on-chain payments of backend orders.
/// @notice A fan pays an order by depositing ETH under the order's reference (`orderRef`, the
/// backend's 32-byte id); the indexer matches `Deposit` events to orders. The owner (the
/// backend's operator) can refund up to what a payer deposited for an order.
/// @dev Events match `shared/src/chain/events.rs`. `Deposit.token` is the zero address for ETH,
/// the only asset this vault takes; the field keeps the interface open to ERC-20 payments.
contract PaymentVault {
    event Deposit(bytes32 indexed orderRef, address indexed payer, address token, uint256 amount);
    event Refunded(bytes32 indexed orderRef, address indexed payer, uint256 amount);

    error NotOwner(address caller);
    error ZeroOrderRef();
    error ZeroAmount();
    error RefundTooLarge(uint256 requested, uint256 refundable);
    error RefundFailed();

    address public immutable owner;
    /// What each payer deposited for each order, less what was refunded.
    mapping(bytes32 orderRef => mapping(address payer => uint256)) public refundable;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Pays (part of) the order `orderRef` with the ETH sent.
    function deposit(bytes32 orderRef) external payable {
        if (orderRef == bytes32(0)) revert ZeroOrderRef();
        if (msg.value == 0) revert ZeroAmount();
        refundable[orderRef][msg.sender] += msg.value;
        emit Deposit(orderRef, msg.sender, address(0), msg.value);
    }

    /// @notice Sends `amount` wei of what `payer` deposited for `orderRef` back to them.
    function refund(bytes32 orderRef, address payable payer, uint256 amount) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (amount == 0) revert ZeroAmount();
        uint256 available = refundable[orderRef][payer];
        if (amount > available) revert RefundTooLarge(amount, available);
        // Checks-effects-interactions: the balance drops before the ETH leaves, so a payer
        // contract re-entering cannot be refunded twice.
        refundable[orderRef][payer] = available - amount;
        emit Refunded(orderRef, payer, amount);
        (bool ok,) = payer.call{value: amount}("");
        if (!ok) revert RefundFailed();
    }
}
