/**
 * @module The node tree a template parses into: text, expressions, statements
 * and the blocks that nest them (Tornado's `_Node` subclasses as plain data).
 */
import type { WhitespaceMode } from './whitespace.js';

/** One parsed template file: its name, its autoescape setting and its top-level nodes. */
export interface ParsedFile {
  /** The name the loader knows the template by. */
  readonly name: string;
  /**
   * The namespace function `{{ }}` output passes through, or `null` for none.
   * Set for the whole file by its last `{% autoescape %}`.
   */
  autoescape: string | null;
  /** The top-level nodes. */
  readonly body: TemplateNode[];
}

/** Literal text between tags, kept with the whitespace mode in force where it was read. */
export interface TextNode {
  readonly kind: 'text';
  readonly line: number;
  readonly value: string;
  readonly whitespace: WhitespaceMode;
}

/** `{{ expr }}` (escaped), `{% raw expr %}` (`raw`) or `{% module expr %}` (`module`). */
export interface ExpressionNode {
  readonly kind: 'expression';
  readonly line: number;
  readonly code: string;
  readonly mode: 'escaped' | 'raw' | 'module';
}

/** `{% set target = value %}` and other assignments. */
export interface SetNode {
  readonly kind: 'set';
  readonly line: number;
  readonly code: string;
}

/** `{% break %}` or `{% continue %}`, only ever inside a loop. */
export interface JumpNode {
  readonly kind: 'break' | 'continue';
  readonly line: number;
}

/** The operators that open a clause of a control block. */
export type ClauseKeyword = 'if' | 'elif' | 'else' | 'for' | 'while' | 'try' | 'catch' | 'finally';

/** One clause of a control block: `{% elif x %}` and the nodes up to the next clause or end. */
export interface Clause {
  readonly keyword: ClauseKeyword;
  /** What follows the keyword (the condition, the loop header, the catch binding). */
  readonly argument: string;
  readonly line: number;
  readonly body: TemplateNode[];
}

/** `{% if %}`, `{% for %}`, `{% while %}` or `{% try %}` with all its clauses, first to last. */
export interface ControlNode {
  readonly kind: 'control';
  readonly line: number;
  readonly clauses: Clause[];
}

/** `{% apply fn %}…{% end %}`: the body's output passed through `fn`. */
export interface ApplyNode {
  readonly kind: 'apply';
  readonly line: number;
  readonly fn: string;
  readonly body: TemplateNode[];
}

/** `{% block name %}…{% end %}`, replaceable by a template that extends this one. */
export interface BlockNode {
  readonly kind: 'block';
  readonly line: number;
  readonly name: string;
  readonly body: TemplateNode[];
  /** The file that defines this body; its autoescape applies inside it. */
  readonly file: ParsedFile;
}

/** `{% extends "name" %}`. */
export interface ExtendsNode {
  readonly kind: 'extends';
  readonly line: number;
  readonly name: string;
}

/** `{% include "name" %}`, resolved relative to the including template. */
export interface IncludeNode {
  readonly kind: 'include';
  readonly line: number;
  readonly name: string;
  /** The name of the template the include appears in. */
  readonly from: string;
}

/** Any node of a template body. */
export type TemplateNode =
  | TextNode
  | ExpressionNode
  | SetNode
  | JumpNode
  | ControlNode
  | ApplyNode
  | BlockNode
  | ExtendsNode
  | IncludeNode;
