import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@realtime/core';

describe('document configuration', () => {
  it('should default to a 1 MiB document limit and a 100-change patch window', () => {
    expect(loadConfig({})).toMatchObject({ maxDocumentBytes: 1_048_576, documentPatchWindow: 100 });
    expect(loadConfig({ REALTIME_MAX_DOCUMENT_BYTES: '4096', REALTIME_DOCUMENT_PATCH_WINDOW: '5' })).toMatchObject({ maxDocumentBytes: 4096, documentPatchWindow: 5 });
  });

  it('should refuse a malformed limit or window, naming the variable', () => {
    expect(() => loadConfig({ REALTIME_MAX_DOCUMENT_BYTES: 'big' })).toThrow(ConfigError);
    expect(() => loadConfig({ REALTIME_MAX_DOCUMENT_BYTES: '1' })).toThrow(/REALTIME_MAX_DOCUMENT_BYTES/);
    expect(() => loadConfig({ REALTIME_DOCUMENT_PATCH_WINDOW: '0' })).toThrow(/REALTIME_DOCUMENT_PATCH_WINDOW/);
  });
});
