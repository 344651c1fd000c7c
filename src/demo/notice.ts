/**
 * What the demo's data is and why its numbers mean nothing about real models: printed before
 * the run, repeated after the numbers, and written at the top of reports/index.md.
 */
export function demoNotice(identities: number, photos: number): string[] {
  return [
    `- Identities: each of the ${identities} faces face-api finds in the ${photos} photos that ship with the face-api package is one identity. The demo cannot tell whether two faces are the same person, so it treats them all as different people.`,
    '- Images: 4 per identity: the group photo (with a Face++-style face_rectangle so align picks that face), a portrait crop, a mirrored brighter crop, and a small blurred faded crop. All four are the same photo, taken at the same moment.',
    "- Ages and genders: face-api's estimates on the group photo (ECAF's come from Face++, also estimates); the crops repeat them.",
    '- INVENTED: the small blurred crop is labelled "child" (group: child) so the missing-children protocol has something to pair. It is not a childhood photo. Cross-age pairs are drawn with a minimum age gap of 0 because no identity has two ages.',
    '- Five records are broken on purpose (404, an HTML page served as 200, a truncated JPEG, an image with X-Robots-Tag: noai, a photo with no face) so the summaries show failures.',
  ];
}

export const MEANINGLESS =
  'These numbers say NOTHING about real models: every positive pair shows two views of one photo (no age gap, no change of pose, light or camera), and the ages of the "children" are invented. They only show that every stage runs and what its outputs look like.';
