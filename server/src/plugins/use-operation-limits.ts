import { GraphQLError, parse, type DocumentNode } from 'graphql';
import type { Plugin, YogaServerOptions } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { RealtimeError } from '@realtime/core';

/**
 * Parses with a token limit (REALTIME_MAX_QUERY_TOKENS): the parser stops at the first token past it, so an
 * operation of a million fields costs no more to refuse than one just over the limit, and leaves nothing
 * large behind. Without it, a 700 KB anonymous query took 400 ms to parse and kept 48 MB in the operation
 * cache before the cost limit refused it.
 */
export const useTokenLimit = (maxTokens: number): Plugin => ({
  onParse({ setParseFn }) {
    setParseFn((source, options) => {
      try {
        return parse(source, { ...options, maxLexicalTokens: maxTokens });
      } catch (error) {
        if (error instanceof GraphQLError && /contains more th[ae]t \d+ tokens/.test(error.message)) {
          throw new RealtimeError('QUERY_TOO_LARGE', `the operation has more than ${maxTokens} tokens (REALTIME_MAX_QUERY_TOKENS); split it or select less`);
        }
        throw error;
      }
    });
  },
});

/** Average bytes of operation text allowed per cached entry: bounds the cache by memory as well as by count. */
const TEXT_BYTES_PER_ENTRY = 256;

/**
 * Yoga's parser and validation cache, sized by us: operation texts kept parsed (and, per schema, validated)
 * per process, up to `size` of them and `size` × 256 bytes of text (a parsed text holds about 70 times its
 * length with locations), least recently used out first. Yoga's own keeps 1,024 whatever their size: a few
 * thousand clients that each write their own values inline cycle through it without a hit (each miss costs
 * about 0.5 ms of validation), and large texts could fill memory. `onParsed` is told of every parse (a miss).
 */
export function operationCache(size: number, onParsed: () => void): NonNullable<YogaServerOptions<object, object>['parserAndValidationCache']> {
  const maxSize = size * TEXT_BYTES_PER_ENTRY;
  const sizeCalculation = (_value: unknown, text: string): number => Math.max(1, text.length);
  const parsed = new LRUCache<string, DocumentNode>({ max: size, maxSize, sizeCalculation });
  const parseErrors = new LRUCache<string, object>({ max: Math.min(size, 1024), maxSize: Math.min(maxSize, 1024 * TEXT_BYTES_PER_ENTRY), sizeCalculation });
  // A set follows every parse that missed (Yoga caches what it parsed), so counting sets counts misses.
  const counted = <T extends object>(cache: LRUCache<string, T>) => ({
    get: (text: string): T | undefined => cache.get(text),
    set: (text: string, value: T): void => {
      onParsed();
      cache.set(text, value);
    },
  });
  return { documentCache: counted(parsed), errorCache: counted(parseErrors) };
}
