import { badInput } from '../errors.js';

/** Dotted lower-case words, like topic names: `boards`, `game.rooms`. Matched by the token's `documents` grants. */
const COLLECTION_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const MAX_COLLECTION_LENGTH = 64;

/**
 * Document ids: 1–128 visible ASCII characters without `/` (so `<collection>/<id>` names a document
 * unambiguously) and without spaces. Long enough for UUIDs and `user:<sub>` style ids.
 */
const DOCUMENT_ID = /^[\x21-\x2e\x30-\x7e]{1,128}$/;

/** Throws BAD_USER_INPUT unless `name` is a valid collection name. */
export function assertCollectionName(name: string, field = 'collection'): void {
  if (name.length > MAX_COLLECTION_LENGTH || !COLLECTION_NAME.test(name) || name.includes('__')) {
    throw badInput(
      `invalid collection name "${name}": use dotted lower-case words (letters, digits, "_"), like "boards" or "game.rooms", at most ${MAX_COLLECTION_LENGTH} characters`,
      { field },
    );
  }
}

/** Throws BAD_USER_INPUT unless `id` is a valid document id. */
export function assertDocumentId(id: string, field = 'id'): void {
  if (!DOCUMENT_ID.test(id)) {
    throw badInput(`invalid document id "${id}": use 1–128 visible ASCII characters, without "/" or spaces`, { field });
  }
}
