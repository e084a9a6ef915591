// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall3: the subset of the Multicall3 interface the swap-quote code calls.
/// @notice Our own small implementation, written for the tests: it has the canonical contract's
/// function signatures (and so its selectors: aggregate3 0x82ad56cb, getBlockNumber 0x42cbb15c,
/// getCurrentBlockTimestamp 0x0f28c97d) and behaviour for these three functions, nothing more.
/// The chain tools (tests/js/chain/swap.mjs) install its runtime code at the canonical address
/// 0xcA11bde05977b3631167028862bE2a173976CA11 with `anvil_setCode`, where real chains have it.
/// @dev No constructor and no storage, so the runtime code works wherever it is put.
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Calls each `calls[i].target` with `calls[i].callData`, in order, and returns what
    /// each answered. A call that fails when its `allowFailure` is false reverts everything with
    /// "Multicall3: call failed"; one allowed to fail gives `success = false` and the revert data.
    /// @dev A call to an address without code succeeds with empty `returnData` (an EVM rule, as
    /// in the canonical contract). `msg.value` is accepted and kept, never forwarded.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        uint256 length = calls.length;
        returnData = new Result[](length);
        for (uint256 i = 0; i < length; ++i) {
            Call3 calldata item = calls[i];
            (bool success, bytes memory data) = item.target.call(item.callData);
            require(success || item.allowFailure, "Multicall3: call failed");
            returnData[i] = Result(success, data);
        }
    }

    /// @notice The number of the block this call runs in.
    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }

    /// @notice The timestamp of the block this call runs in.
    function getCurrentBlockTimestamp() external view returns (uint256) {
        return block.timestamp;
    }
}
