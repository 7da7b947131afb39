import type { FlamingoClient } from 'flamingo-protocol';

/**
 * Hold a client's link in an exclusive section until `release` is called: later requests
 * and sends of the client wait for their turn meanwhile. `section` settles after release.
 */
export async function holdTheLink(client: FlamingoClient): Promise<{ release: () => void; section: Promise<void> }> {
  let release!: () => void;
  let entered!: () => void;
  const inSection = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const section = client.exclusive(async () => {
    entered();
    await new Promise<void>((resolve) => {
      release = resolve;
    });
  });
  await inSection;
  return { release, section };
}
