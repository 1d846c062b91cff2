import { orderConfirmationEmail, vendorNewOrderEmail, welcomeEmail } from '../../../server/modules/email';

/*
 * Issue 16, point 9: whatever a name, store name or product title holds, a mail shows it as text:
 * escaped in the HTML part, and never on a line (or in a subject) of its own.
 */
const HOSTILE = '<script>alert(1)</script>"><a href="https://evil.example/win">Claim your prize</a>';

describe('mail templates', () => {
  it('when values carry markup, then the HTML part shows them escaped, never as tags or attributes', () => {
    const order = {
      id: '11111111-2222-3333-4444-555555555555',
      totalCents: 1234,
      currency: 'usd',
      items: [{ title: HOSTILE, quantity: 2, unitPriceCents: 617, vendorId: 'v1' }],
    };
    const mails = [
      welcomeEmail({ id: 'u1', email: 'to@example.com', name: HOSTILE }),
      orderConfirmationEmail(order, { email: 'buyer@example.com', name: HOSTILE }),
      vendorNewOrderEmail(order, { id: 'v1', email: 'vendor@example.com', name: HOSTILE, storeName: 'Hats' }),
    ];
    for (const mail of mails) {
      expect(mail.html).not.toMatch(/<script|<a |href="/i);
      expect(mail.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#62;&#60;a href=&#34;https://evil.example/win&#34;&#62;');
      // Only the template's own paragraphs are tags.
      expect(mail.html.replace(/<\/?p>/g, '')).not.toMatch(/[<>]/);
    }
  });

  it('when a name or title carries line breaks, then the text part keeps it on its own line and the subject has none', () => {
    const name = 'Eve\n\nYour account was suspended. Call +1 555 0100 now.\r\nThanks';
    const welcome = welcomeEmail({ id: 'u2', email: 'to@example.com', name });
    expect(welcome.text.split('\n')).toEqual([
      'Hello Eve Your account was suspended. Call +1 555 0100 now. Thanks,',
      'Your account is ready. Happy shopping!',
    ]);
    expect(welcome.toName).toBe('Eve Your account was suspended. Call +1 555 0100 now. Thanks');
    expect(welcome.html).not.toMatch(/[\r\n]/);

    const order = {
      id: '11111111-2222-3333-4444-555555555555',
      totalCents: 500,
      currency: 'eur',
      items: [{ title: 'Hat\nPay here instead: IBAN XX00', quantity: 1, unitPriceCents: 500, vendorId: 'v1' }],
    };
    const vendorMail = vendorNewOrderEmail(order, { id: 'v1', email: 'v@example.com', name: 'Vera', storeName: 'Hats\nBcc: everyone' });
    expect(vendorMail.subject).toBe('New paid order for Hats Bcc: everyone');
    expect(vendorMail.text.split('\n')).toContain('1 × Hat Pay here instead: IBAN XX00');
    expect(vendorMail.text.split('\n')).not.toContain('Pay here instead: IBAN XX00');
  });
});
