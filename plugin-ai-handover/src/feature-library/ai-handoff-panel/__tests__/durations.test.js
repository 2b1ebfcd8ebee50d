import { waitText } from '../helpers/durations';

test.each([
  [-5000, 'less than a minute'],
  [59 * 1000, 'less than a minute'],
  [60 * 1000, '1 min'],
  [59 * 60 * 1000, '59 min'],
  [65 * 60 * 1000, '1 h 05 min'],
  [27 * 60 * 60 * 1000, '1 d 3 h'],
])('%i ms reads %s', (milliseconds, text) => {
  expect(waitText(milliseconds)).toBe(text);
});
