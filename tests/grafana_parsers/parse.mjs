// Parse LogQL and TraceQL queries with the parsers Grafana's own query editors use.
//
// stdin:  a JSON list of {"language": "logql" | "traceql", "query": "...", "where": "..."}
// stdout: a JSON list with one result per query, in the same order:
//         {"where", "language", "query", "ok", "position", "excerpt"}
//         where position is the character offset of the first error (null when ok)
//         and excerpt the query's line with a caret under that position.
// Exit status: 0 when every query parses, 1 when one does not, 2 on bad input.
//
// Run it from the repository: `node tests/grafana_parsers/parse.mjs < queries.json`.

import { readFileSync } from "node:fs";

import { parser as logql } from "@grafana/lezer-logql";
import { parser as traceql } from "@grafana/lezer-traceql";

const PARSERS = { logql, traceql };

// Lezer parsers never throw: they recover from a syntax error and leave an
// error node (type.isError, shown as ⚠) in the tree. So a query is valid when
// its tree holds no error node, and the first one says where it went wrong.
function firstError(tree) {
  let position = null;
  tree.iterate({
    enter(node) {
      if (position !== null) return false; // found one: stop descending
      if (node.type.isError) position = node.from;
    },
  });
  return position;
}

// The line of the query that holds the position, and a caret under it.
function excerpt(query, position) {
  const start = query.lastIndexOf("\n", position - 1) + 1;
  const end = query.indexOf("\n", position);
  const line = query.slice(start, end === -1 ? undefined : end);
  return `${line}\n${" ".repeat(position - start)}^`;
}

function check({ language, query, where }) {
  const parser = PARSERS[language];
  if (!parser) throw new Error(`${where}: unknown language ${language}`);
  const position = firstError(parser.parse(query));
  return {
    where,
    language,
    query,
    ok: position === null,
    position,
    excerpt: position === null ? null : excerpt(query, position),
  };
}

let results;
try {
  results = JSON.parse(readFileSync(0, "utf8")).map(check);
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
console.log(JSON.stringify(results, null, 2));
process.exitCode = results.every((result) => result.ok) ? 0 : 1;
