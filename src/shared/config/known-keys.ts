/**
 * @module The dotted paths of every key a schema knows, for suggestions and checks of override paths.
 */
import { joinPath } from './field.js';
import type { Field } from './field.js';

/** Every dotted key path under `field` (maps only; list items are not enumerated). */
export function knownKeys(field: Field<unknown>, prefix = ''): string[] {
  return field.names.flatMap((name) => {
    const path = joinPath(prefix, name);
    const child = field.child(name);
    return child === undefined ? [path] : [path, ...knownKeys(child, path)];
  });
}

/**
 * The field at dotted `path`, or the first segment that names no key (with the
 * path of its parent). List items are addressed by index (`frontend.listen.0.port`).
 */
export function fieldAt(
  root: Field<unknown>,
  path: string,
): { field: Field<unknown> } | { unknown: string; parent: string; parentField: Field<unknown> } {
  let field = root;
  let parent = '';
  for (const segment of path.split('.')) {
    const child = field.child(segment);
    if (child === undefined) return { unknown: segment, parent, parentField: field };
    field = child;
    parent = joinPath(parent, segment);
  }
  return { field };
}
