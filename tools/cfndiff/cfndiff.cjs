// Compares pairs of CloudFormation templates with AWS CDK's differ (@aws-cdk/cloudformation-diff)
// and prints what it found as JSON, for scripts/diff to read.
//
// stdin:  [{"key": "...", "old": {template}, "new": {template}}, ...]
// stdout: [{"key": "...", "resources": [...], "statements": [...], "managedPolicies": [...],
//           "securityGroupRules": [...], "outputs": [...]}, ...]
//
// The module's path comes in CFNDIFF_MODULE (the copy `make venv` installs in .venv-cfndiff).
"use strict";

const { readFileSync } = require("node:fs");
const cfndiff = require(process.env.CFNDIFF_MODULE);

// renderIntrinsics turns Ref and Fn::GetAtt into "${X}" text but leaves Fn::Sub as JSON.
function text(value) {
  if (typeof value !== "string" || !value.startsWith("{")) return value;
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed["Fn::Sub"] === "string") return parsed["Fn::Sub"];
  } catch {
    // not JSON after all: keep the text
  }
  return value;
}

function targets(t) {
  return { not: t.not, values: t.values.map(text) };
}

function statement(s, change) {
  return {
    change,
    effect: s.effect,
    actions: targets(s.actions),
    resources: targets(s.resources),
    principals: targets(s.principals),
    condition: s.condition === undefined ? null : s.condition,
  };
}

function rule(r, direction, change) {
  return {
    change,
    direction,
    group: text(r.groupId),
    protocol: r.describeProtocol(),
    peer: r.peer ? { kind: r.peer.kind, value: text(r.describePeer()) } : null,
    cidr: r.peer && r.peer.kind === "cidr-ip" ? r.peer.ip : null,
  };
}

function resources(diff) {
  const found = [];
  diff.resources.forEachDifference((logicalId, change) => {
    found.push({
      logicalId,
      oldType: change.oldResourceType ?? null,
      newType: change.newResourceType ?? null,
      action: change.isAddition ? "add" : change.isRemoval ? "remove" : "modify",
      properties: Object.keys(change.propertyUpdates).sort(),
      other: Object.keys(change.otherChanges).sort(),
    });
  });
  return found;
}

function compare({ key, old, new: current }) {
  const diff = cfndiff.fullDiff(old, current);
  const iam = diff.iamChanges;
  const groups = diff.securityGroupChanges;
  return {
    key,
    resources: resources(diff),
    statements: [
      ...iam.statements.additions.map((s) => statement(s, "+")),
      ...iam.statements.removals.map((s) => statement(s, "-")),
    ],
    managedPolicies: [
      ...iam.managedPolicies.additions.map((p) => ({ change: "+", identity: text(p.identityArn), policy: text(p.managedPolicyArn) })),
      ...iam.managedPolicies.removals.map((p) => ({ change: "-", identity: text(p.identityArn), policy: text(p.managedPolicyArn) })),
    ],
    securityGroupRules: [
      ...groups.ingress.additions.map((r) => rule(r, "ingress", "+")),
      ...groups.ingress.removals.map((r) => rule(r, "ingress", "-")),
      ...groups.egress.additions.map((r) => rule(r, "egress", "+")),
      ...groups.egress.removals.map((r) => rule(r, "egress", "-")),
    ],
    outputs: diff.outputs.logicalIds.map((name) => {
      const change = diff.outputs.get(name);
      return { name, action: change.isAddition ? "add" : change.isRemoval ? "remove" : "modify" };
    }),
  };
}

try {
  const pairs = JSON.parse(readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(pairs.map(compare)));
} catch (error) {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(3);
}
