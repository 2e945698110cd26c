// The official MCP TypeScript SDK as tagwarden's client: Client with
// StdioClientTransport starts tagwarden, lists the tools and calls each
// one. The SDK checks every structuredContent against the tool's
// outputSchema and throws on a mismatch; this script checks the numbers
// against EXPECTED, which tests/e2e/mcp/sdk.py computes from the oracle
// and the fixture (never from tagwarden).
//
// Environment: TAGWARDEN_CMD (JSON array: command and arguments),
// TAGWARDEN_ENV (JSON object: the server's environment), EXPECTED (JSON).
// Prints one line per check and exits 0 when all pass.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";

const cmd = JSON.parse(process.env.TAGWARDEN_CMD);
const env = JSON.parse(process.env.TAGWARDEN_ENV);
const want = JSON.parse(process.env.EXPECTED);
// Scans under valgrind are slow; progress resets the SDK's timeout.
const slow = { timeout: 600000, resetTimeoutOnProgress: true };

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}

function text(result) {
  return result.content.length === 1 && result.content[0].type === "text"
    ? result.content[0].text : null;
}

// structuredContent plus the same JSON as the one text item.
function structured(name, result) {
  check(result.isError === false, `${name}: not an error`);
  const t = text(result);
  check(t !== null && JSON.stringify(JSON.parse(t)) ===
    JSON.stringify(result.structuredContent),
    `${name}: the text item is the structured JSON`);
  return result.structuredContent;
}

async function main() {
  const transport = new StdioClientTransport({
    command: cmd[0], args: cmd.slice(1), env, stderr: "inherit",
  });
  const client = new Client({ name: "tagwarden-sdk-test", version: "1.0.0" });
  await client.connect(transport);
  check(client.getServerVersion().name === "tagwarden", "serverInfo.name");
  check(client.getServerCapabilities().tools !== undefined,
    "tools capability");
  await client.ping();
  check(true, "ping");

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  check(JSON.stringify(names) === JSON.stringify(want.tools),
    `tools/list: ${names.join(", ")}`);
  for (const t of tools) {
    check(t.inputSchema.additionalProperties === false &&
      t.outputSchema && t.outputSchema.type === "object",
      `${t.name}: closed inputSchema and an outputSchema`);
  }
  check("account_ids" in tools[0].inputSchema.properties,
    "check_tag_compliance has account_ids");

  const pol = structured("get_tagging_policy",
    await client.callTool({ name: "get_tagging_policy", arguments: {} }));
  check(pol.hash === want.policy_hash, "policy hash = sha256 of the file");

  let progress = 0;
  const single = structured("check_tag_compliance single", await
    client.callTool({ name: "check_tag_compliance",
      arguments: { resource_types: want.types } }, undefined, slow));
  check(single.total_resources === want.single.counted &&
    single.compliant_resources === want.single.compliant &&
    single.violation_count_total === want.single.violations,
    `single account: ${single.compliant_resources}/` +
    `${single.total_resources}, ${single.violation_count_total} violations`);
  check(single.account_breakdown === undefined, "single-account shape");

  const multi = structured("check_tag_compliance multi", await
    client.callTool({ name: "check_tag_compliance", arguments: {
      resource_types: want.types, account_ids: want.accounts,
      force_refresh: true } }, undefined,
    { ...slow, onprogress: () => { progress++; } }));
  check(progress > 0, `progress notifications: ${progress}`);
  for (const [id, w] of Object.entries(want.breakdown)) {
    const b = multi.account_breakdown[id];
    check(b && b.total_resources === w.counted &&
      b.compliant_resources === w.compliant &&
      b.violation_count === w.violations, `account ${id} breakdown`);
  }
  check(JSON.stringify(multi.account_metadata.failed_accounts) ===
    JSON.stringify(want.failed), "failed accounts");

  const unt = structured("find_untagged_resources", await client.callTool({
    name: "find_untagged_resources", arguments: { resource_types: want.types }
  }, undefined, slow));
  check(unt.untagged_count === want.untagged_count,
    `untagged: ${unt.untagged_count}`);

  const val = structured("validate_resource_tags", await client.callTool({
    name: "validate_resource_tags",
    arguments: { resource_arns: Object.keys(want.validate) },
  }, undefined, slow));
  for (const r of val.results) {
    check(r.status === want.validate[r.resource_arn],
      `validate ${r.resource_arn}: ${r.status}`);
  }

  const hist = structured("get_violation_history", await client.callTool({
    name: "get_violation_history", arguments: { days_back: 1 } }));
  check(hist.periods.length >= 1 && ["improving", "worsening", "stable"]
    .includes(hist.trend.direction), "history has today's scans");

  const bad = await client.callTool({ name: "get_violation_history",
    arguments: { days_back: 91 } });
  check(bad.isError === true && /days_back: 91: expected an integer 1\.\.90/
    .test(text(bad)), `argument error: ${text(bad)}`);

  try {
    await client.callTool({ name: "no_such_tool", arguments: {} });
    check(false, "unknown tool is a protocol error");
  } catch (e) {
    check(e instanceof McpError && e.code === -32602,
      `unknown tool: ${e.code} ${e.message}`);
  }

  // Cancellation through the SDK: it sends notifications/cancelled.
  const ac = new AbortController();
  const slowCall = client.callTool({ name: "check_tag_compliance",
    arguments: { resource_types: want.types, account_ids: [want.hang] } },
  undefined, { ...slow, signal: ac.signal });
  setTimeout(() => ac.abort("test cancels"), 1500);
  try {
    await slowCall;
    check(false, "the cancelled call rejects");
  } catch (e) {
    // The SDK rejects with the abort reason; no answer of the server's.
    check(/test cancels/.test(String(e && e.message ? e.message : e)),
      `cancelled call rejected: ${e}`);
  }
  await client.ping();
  check(true, "ping after the cancellation");

  await client.close();
  if (failures > 0) {
    console.log(`FAIL: ${failures} checks failed`);
    process.exit(1);
  }
  console.log("PASS: SDK client checks");
}

main().catch((e) => {
  console.log(`FAIL: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
