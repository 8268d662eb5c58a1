// pattern.h: pattern rules (spec §8), textual rewrites applied to a source
// file before any analysis.
//
// A rule is written "PATTERN=>REPLACEMENT". Both sides are one Python
// statement or expression (the replacement may be several small statements
// joined by `;`); `{name}` is a capture that matches any node in a position
// where a name may appear. Rules are parsed once (pattern_parse) and applied
// to whole files (pattern_apply); the rewritten file is then parsed and
// analysed like any other.
#ifndef FFQ_PATTERN_H
#define FFQ_PATTERN_H

#include "base.h"

typedef struct PatternRule PatternRule;

// Parses "PATTERN=>REPLACEMENT" (split at the first "=>" outside strings and
// brackets). On error, reports one error diagnostic and returns NULL: at
// `file`/`offset` when `file` is non-NULL (a rule listed in a table), else a
// positionless "--replace 'RULE': ..." message. The rule lives in cx's arena
// and is immutable once parsed (apart from pattern_set_scope), so it can be
// applied to any number of files of that context.
PatternRule *pattern_parse(ffq_ctx *cx, const char *rule, const SrcFile *file, uint32_t offset);

// Restricts the rule to a dotted scope (`on=` of PatternRule.from_str): the
// rule applies to a node iff the parts of `on` are a prefix of the parts of
// the node's scope `<module>.<Class>.<func>...`. NULL applies everywhere.
// `on` is not copied; it must live as long as the rule (e.g. in the arena).
void pattern_set_scope(PatternRule *r, const char *on);

// The rule as written (for messages and dumps).
const char *pattern_rule_text(const PatternRule *r);

// Applies the rules, in order, to the whole file: bottom-up (a node is matched
// with its children already rewritten), rules retried from the first one on
// every node they change. Cycle guard: at one node, a result whose text was
// already produced there is refused.
// `module_name` is the file's dotted module name (scope filters); NULL counts
// as "". Returns a new SrcFile with the same path holding the rewritten text,
// or `file` itself when no rule matched (or the file has syntax errors, which
// are left for source_parse to report). A node that keeps being rewritten is
// reported as a warning [pattern-loop] and left at its last form.
const SrcFile *pattern_apply(ffq_ctx *cx, const SrcFile *file, const char *module_name,
                             PatternRule *const *rules, size_t n);

// Whether one of the rules could match somewhere in `text` of module `module_name`: false
// when no rule whose scope can hold that module has its longest name in the text (a cheap
// test before parsing a file for the rules).
bool pattern_may_apply(PatternRule *const *rules, size_t n, const char *module_name, const char *text,
                       size_t len);

#endif
