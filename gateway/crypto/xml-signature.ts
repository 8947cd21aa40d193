/**
 * XML-DSig enveloped signatures (xml-crypto) for XML documents the gateway sends: the
 * whole document (Reference URI=""), enveloped-signature then exc-c14n transforms,
 * SHA-256 digest, RSA-SHA256, the certificate in KeyInfo/X509Data. `xmlsec1 --verify`
 * checks it with no Id attribute declarations, since nothing is referenced by Id.
 */
import type { KeyObject } from 'node:crypto'
import { SignedXml } from 'xml-crypto'

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#'
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256'

/** Appends a ds:Signature to the document element, covering the whole document. */
export function signXmlEnveloped (xml: string, key: KeyObject, certPem: string): string {
  const sig = new SignedXml({ privateKey: key, publicCert: certPem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N })
  sig.addReference({ xpath: '/*', transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256, isEmptyUri: true })
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } })
  return sig.getSignedXml()
}

/** Checks an enveloped signature made by signXmlEnveloped against a certificate. */
export function verifyXmlEnveloped (xml: string, certPem: string): boolean {
  const sig = new SignedXml({ publicCert: certPem })
  const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)
  if (signature === null) return false
  sig.loadSignature(signature[0])
  try {
    return sig.checkSignature(xml)
  } catch {
    return false
  }
}
