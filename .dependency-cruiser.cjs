/**
 * Import rules of flamingo-protocol: the doors of docs/ARCHITECTURE.md ("Doors"), one rule
 * each, with the same names (D1..D12). `npm run lint:deps` checks them; a violation fails CI.
 * Paths are relative to the repository root.
 */
/** Node modules that do I/O or keep time: the pure layers may not load them. */
const IO_MODULES = '^(node:)?(net|tls|dgram|http|https|http2|fs|fs/promises|child_process|cluster|worker_threads|timers|timers/promises|dns|readline|process)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'protocol-is-pure',
      comment: 'D1: protocol/ is the wire format only: it imports protocol/ and npm packages without I/O, never the layers above.',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { pathNot: ['^protocol/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'protocol-does-no-io',
      comment: 'D1: protocol/ does no I/O and keeps no time (no sockets, files, processes or timers).',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    },
    {
      name: 'transports-know-no-client',
      comment: 'D2: transports/ moves bytes; it knows no client, correlation, state or simulator.',
      severity: 'error',
      from: { path: '^transports/' },
      to: { path: ['^src/', '^mocks/'] },
    },
    {
      name: 'mocks-share-only-the-bottom',
      comment: 'D3: the simulator shares protocol/ and transports/ with the library, never src/ (it must not agree with the client by construction).',
      severity: 'error',
      from: { path: '^mocks/' },
      to: { path: '^src/' },
    },
    {
      name: 'cli-is-a-leaf',
      comment: "D4: nothing outside src/cli imports src/cli (importing the library must not load commander); the CLI's own tests under test/ may.",
      severity: 'error',
      from: { pathNot: ['^src/cli/', '^test/'] },
      to: { path: '^src/cli/' },
    },
    {
      name: 'root-loads-no-cli-libraries',
      comment: "D5: the package root and everything it loads stay free of the CLI's libraries.",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], path: '(^|/)node_modules/(commander|cli-progress)/' },
    },
    {
      name: 'root-loads-no-simulator',
      comment: 'D6: the simulator has its own subpath (flamingo-protocol/sim); the package root never loads it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^mocks/' },
    },
    {
      name: 'root-reaches-no-cli-or-simulator',
      comment: "D5 + D6 as the user meets them: nothing the package root loads, however indirectly, is the CLI's libraries or the simulator.",
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: ['(^|/)node_modules/(commander|cli-progress)/', '^mocks/', '^src/cli/'], reachable: true },
    },
    {
      name: 'correlation-below-dispatch',
      comment: 'D7: correlation depends on protocol/ (and the shared errors) only.',
      severity: 'error',
      from: { path: '^src/correlation/' },
      to: { path: ['^src/dispatch/', '^src/client/', '^src/state/', '^src/live/', '^src/apps/', '^src/format/', '^transports/'] },
    },
    {
      name: 'state-below-client',
      comment: 'D8: the state mirror is applied by the dispatcher; it does not reach up into the client, the dispatcher or the apps.',
      severity: 'error',
      from: { path: '^src/state/' },
      to: { path: ['^src/client/', '^src/dispatch/', '^src/apps/'] },
    },
    {
      name: 'format-is-pure',
      comment: 'D9: src/format/ renders text from protocol/ values only (shared by the CLI and the conformance report).',
      severity: 'error',
      from: { path: '^src/format/' },
      to: { pathNot: ['^protocol/', '^src/format/', '^node_modules/'], dependencyTypesNot: ['core', 'type-only'] },
    },
    {
      name: 'format-does-no-io',
      comment: 'D9: pure rendering: no sockets, files, processes or clocks.',
      severity: 'error',
      from: { path: '^src/format/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    },
    {
      name: 'apps-are-leaves',
      comment: 'D10: the library below src/apps does not depend on an app; only the package root and the CLI load them.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/apps/', '^src/cli/', '^src/index\\.ts$'] },
      to: { path: '^src/apps/' },
    },
    {
      name: 'no-test-code-in-the-package',
      comment: 'D11: nothing published imports test/ or bench/.',
      severity: 'error',
      from: { path: '^(src|protocol|transports|mocks)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      comment:
        'D12: no import cycles at run time: a cycle hides which layer owns what. A type-only import (erased by tsc) closing a loop is allowed, e.g. a helper naming the client type it is handed.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that resolves to nothing fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|docs/api)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
