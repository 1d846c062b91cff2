import { createContractChecker } from './contract';
import { recordedDocument, recordedResponses } from './contract-recorder';

/*
 * Runs after every test file (jest setupFilesAfterEnv): each response the file's test apps
 * gave must be documented — its status listed for the route, its JSON body valid against that
 * status's schema. The first problems fail the file with route, status and the schema error.
 */
afterAll(() => {
  const document = recordedDocument();
  if (!document) return;
  const problemWith = createContractChecker(document as Parameters<typeof createContractChecker>[0]);
  const problems = [
    ...new Set(
      recordedResponses()
        .map(problemWith)
        .filter((p): p is string => p !== undefined),
    ),
  ];
  if (problems.length > 0) {
    throw new Error(`${problems.length} response(s) not as documented in the OpenAPI document:\n${problems.slice(0, 20).join('\n')}`);
  }
});
