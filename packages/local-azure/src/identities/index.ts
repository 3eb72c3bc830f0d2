// The declaration lives in @wi/identities; the local cloud reads it only through that package.
export * from '@wi/identities';
