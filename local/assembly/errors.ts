/** An assembly the emulator cannot read or run; the message names the stack, the resource and what is wrong. */
export class AssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssemblyError';
  }
}

/** `Stack/LogicalId` label used in every message about a resource. */
export function where(stackName: string, logicalId?: string): string {
  return logicalId ? `${stackName}/${logicalId}` : stackName;
}
