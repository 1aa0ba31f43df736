// Errors a user can act on: the message names the input (file, field, flag) and the fix.
// The CLI prints these without a stack trace; anything else is a bug and keeps its stack.
export class RiptideError extends Error {
  override name = 'RiptideError';
}
