/** Issue 12 finding 11: an internal error's message (a store error can name the database file) never reaches a client. */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { INTERNAL_ERROR_CODE } from '../../common/error-metadata.js';
import { NpfError } from '../../common/errors.js';
import { INTERNAL_DETAILS, toGrpcStatus } from '../../coordinator/grpc-status.js';
import { InvalidRequestError } from '../../coordinator/errors.js';

describe('internal errors at the edge', () => {
  it('a typed internal error answers the generic sentence and its code, not its message', () => {
    const s = toGrpcStatus(new NpfError('STORE_FAILED', 'SqliteError: disk I/O error at /srv/secret/npf.db'));
    expect(s).toEqual({ code: status.INTERNAL, details: INTERNAL_DETAILS, errorCode: 'STORE_FAILED' });
    expect(toGrpcStatus(new Error('/srv/secret/npf.db'))).toEqual({ code: status.INTERNAL, details: INTERNAL_DETAILS, errorCode: INTERNAL_ERROR_CODE });
  });

  it('a refusal of the request keeps its message', () => {
    expect(toGrpcStatus(new InvalidRequestError('hostname: 300 characters, more than the limit 256')).details).toBe('hostname: 300 characters, more than the limit 256');
  });
});
