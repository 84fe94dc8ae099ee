/**
 * Tabs PyYAML 6's scanner cannot read: it separates tokens with spaces only, so a tab between tokens or inside a
 * plain scalar (`a:\t1`, `a: 1\t`, `[1,\t2]`, `x\ty`) stops `safe_load` with "found character '\t' that cannot start
 * any token". YAML allows them, and so does the `yaml` package; the config loader reads such a file but warns that
 * scPortrait would not. Tabs in quoted and block scalars and in comments are fine for both.
 */
import { CST, Lexer } from 'yaml';

export interface TabPosition {
  /** 0-based offset in the text. */
  offset: number;
}

// Lexer tokens that mark structure without consuming text.
const SYNTHETIC = new Set([CST.DOCUMENT, CST.FLOW_END, CST.SCALAR]);

/** Offsets of the tabs PyYAML's scanner rejects, in text order. */
export function tabsPyYamlRejects(text: string): TabPosition[] {
  const found: TabPosition[] = [];
  let offset = 0;
  let blockScalarNext = false;
  let afterScalarMarker = false;
  for (const token of new Lexer().lex(text)) {
    if (SYNTHETIC.has(token)) {
      afterScalarMarker = token === CST.SCALAR;
      continue;
    }
    const type = CST.tokenType(token);
    // The token after a scalar marker is the scalar's text: plain, or the body of a block scalar.
    const plainText = afterScalarMarker && !blockScalarNext;
    const bodyOfBlockScalar = afterScalarMarker && blockScalarNext;
    if (bodyOfBlockScalar) blockScalarNext = false;
    if (type === 'block-scalar-header') blockScalarNext = true;
    if ((plainText || type === 'space') && !bodyOfBlockScalar) {
      for (let i = token.indexOf('\t'); i !== -1; i = token.indexOf('\t', i + 1)) found.push({ offset: offset + i });
    }
    afterScalarMarker = false;
    offset += token.length;
  }
  return found;
}
