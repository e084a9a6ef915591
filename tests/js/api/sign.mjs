// Signs a message with a wallet library (ethers' personal_sign), for the Rust e2e tests:
//   node tests/js/api/sign.mjs <private key> <message>  → prints {"address", "signature"}
import { Wallet } from "ethers";

const [key, message] = process.argv.slice(2);
if (!key || message === undefined) {
  console.error("usage: sign.mjs <private key> <message>");
  process.exit(2);
}
const wallet = new Wallet(key);
console.log(JSON.stringify({ address: wallet.address, signature: await wallet.signMessage(message) }));
